using System.Globalization;
using System.Net;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// The gateway as a real process with <c>--config</c>: it refuses to start with a bad setup (exit code 2, every
/// reason printed, no key), enforces the file's keys, and reloads the file on SIGHUP, a signal sent to that child
/// process only.
/// </summary>
[Trait("Category", "Process")]
public sealed class TenancyProcessTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("synapse-tenancy-process-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task Help_ListsConfig_WithItsVariable()
    {
        var (exitCode, output) = await ProductProcess.RunAsync(ProductProcess.Gateway, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("--config", output, StringComparison.Ordinal);
        Assert.Contains("SYNAPSE_CONFIG", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidFile_ExitsWithCode2_PrintingEveryErrorWithoutAKey()
    {
        var file = Write("groups.yaml", """
            groups:
              - name: alpha
                ws_auth_keys: [sekret-ws]
                api_keys:
                  - { nmae: ci, key: sekret-api }
              - name: alpha
                ws_auth_keys: [sekret-ws]
                api_keys: [sekret-api-2]
                limits: { rpm: lots }
            """);

        var (exitCode, output) = await ProductProcess.RunAsync(ProductProcess.Gateway, "--config", file);

        Assert.Equal(2, exitCode);
        Assert.Contains($"error: invalid configuration: key-groups file {file} (4 errors):", output, StringComparison.Ordinal);
        Assert.Contains($"{file}:5:11: groups[0].api_keys[0].nmae: unknown field; did you mean 'name'?", output, StringComparison.Ordinal);
        Assert.Contains($"{file}:6:5: groups[1].name: group name 'alpha' is already used at groups[0]", output, StringComparison.Ordinal);
        Assert.Contains($"{file}:7:20: groups[1].ws_auth_keys[0]: the same key also appears in group 'alpha' at groups[0].ws_auth_keys[0]", output, StringComparison.Ordinal);
        Assert.Contains($"{file}:9:15: groups[1].limits.rpm: must be a positive whole number, not 'lots'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_ExitsWithCode2_NamingIt()
    {
        var file = Path.Combine(_folder.FullName, "nowhere.yaml");

        var (exitCode, output) = await ProductProcess.RunAsync(ProductProcess.Gateway, "--config", file);

        Assert.Equal(2, exitCode);
        Assert.Contains($"{file}: the file does not exist", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--api-auth-key", null)]
    [InlineData("--ws-auth-key-file", null)]
    [InlineData(null, "SYNAPSE_WS_AUTH_KEY")]
    [InlineData(null, "SYNAPSE_API_AUTH_KEY_FILE")]
    public async Task ConfigTogetherWithASingleKeySetting_ExitsWithCode2(string? flag, string? variable)
    {
        var config = Write("groups.yaml", Groups("sekret-api-1"));
        var keyFile = Write("key", "sekret-flag-key");
        var value = (flag ?? variable)!.EndsWith("FILE", StringComparison.OrdinalIgnoreCase) ? keyFile : "sekret-flag-key";
        string[] args = flag is null ? ["--config", config] : ["--config", config, flag, value];
        var environment = variable is null ? null : new Dictionary<string, string> { [variable] = value };

        await using var gateway = ProductProcess.Start(ProductProcess.Gateway, args, environment);
        var exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        Assert.Contains("--config cannot be combined with --api-auth-key or --ws-auth-key", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidFile_ItsKeysAreEnforced_AndSighupReloadsIt()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        var port = FreePorts.Next();
        await using var gateway = ProductProcess.Start(
            ProductProcess.Gateway,
            [
                "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ],
            new Dictionary<string, string>
            {
                ["SYNAPSE_CONFIG"] = file,

                // Neither watcher nor poll: only the signal can make this gateway read the file again.
                ["Synapse__Tenancy__WatchDirectory"] = "false",
                ["Synapse__Tenancy__PollInterval"] = "00:00:00",
            });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    return (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            "the gateway process is ready");

        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsAsync(client, null));
        Assert.Equal(HttpStatusCode.OK, await ModelsAsync(client, "sekret-api-1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsAsync(client, "sekret-api-2"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsAsync(client, "sekret-ws"));

        Write("groups.yaml", Groups("sekret-api-2"));
        gateway.Signal(1);
        await Eventually.UntilAsync(async () => await ModelsAsync(client, "sekret-api-2") == HttpStatusCode.OK, TimeSpan.FromSeconds(2), "the new key works within 2 s of SIGHUP");

        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsAsync(client, "sekret-api-1"));
        Assert.False(gateway.HasExited);
        await gateway.WaitForOutputAsync("(Signal)", TimeSpan.FromSeconds(5));
        Assert.Contains($"Key groups reloaded from {file} (Signal)", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", gateway.Output, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> ModelsAsync(HttpClient client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/models", UriKind.Relative));
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder.FullName, name);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private static string Groups(string apiKey) => $"""
        groups:
          - name: alpha
            ws_auth_keys: [sekret-ws]
            api_keys: [{apiKey}]

        """;
}
