using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Synapse.Tests.Observability;

/// <summary>
/// One headless Chromium (Debian's <c>/usr/bin/chromium</c>, never a downloaded one) for the status page tests,
/// driven by the Playwright driver the NuGet package copies into the build output (<c>.playwright/</c>).
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does.");
        }

        SetDefaultExpectTimeout(10_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
