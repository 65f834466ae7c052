using System.Security.Cryptography;
using System.Text;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// Reads the key-groups file given by <c>--config</c>: <c>.json</c> as JSON, anything else as YAML (JSON is YAML
/// too, but JSON's own reader gives better errors for it).
/// </summary>
public static class TenancyConfigLoader
{
    /// <summary>Larger than any real key-groups file; reading stops there.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    private const string KeyPlaceholder = "(a key)";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static TenancyLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] content;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            using var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            int read;
            while ((read = stream.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxFileBytes)
                {
                    return Unreadable(path, $"the file is larger than {MaxFileBytes / (1024 * 1024)} MiB; it cannot be a key-groups file");
                }
            }

            content = buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unreadable(path, ex is FileNotFoundException or DirectoryNotFoundException
                ? "the file does not exist"
                : $"cannot read the file: {ex.Message}");
        }

        return Parse(path, content);
    }

    /// <summary>Parses and checks <paramref name="content"/>, read from <paramref name="path"/> (whose extension picks the syntax).</summary>
    public static TenancyLoadResult Parse(string path, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(path);
        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        var errors = new List<TenancyConfigError>();
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        if (content.StartsWith(bom))
        {
            content = content[bom.Length..];
        }

        ConfigNode? root;
        if (string.Equals(Path.GetExtension(path), ".json", StringComparison.OrdinalIgnoreCase))
        {
            root = JsonConfigReader.Read(content, path, errors);
        }
        else
        {
            string text;
            try
            {
                text = StrictUtf8.GetString(content);
            }
            catch (DecoderFallbackException)
            {
                errors.Add(new TenancyConfigError(path, "", "the file is not UTF-8 text"));
                return new TenancyLoadResult(TenancyLoadOutcome.Invalid, null, errors, hash);
            }

            root = YamlConfigReader.Read(text, path, errors);
        }

        if (root is null)
        {
            return new TenancyLoadResult(TenancyLoadOutcome.Invalid, null, errors, hash);
        }

        var config = TenancyFileReader.Read(root, path, hash[..12], errors, out var plainKeys);
        return config is null
            ? new TenancyLoadResult(TenancyLoadOutcome.Invalid, null, Scrub(errors, plainKeys), hash)
            : new TenancyLoadResult(TenancyLoadOutcome.Ok, config, [], hash);
    }

    /// <summary>
    /// Messages never name keys, but a key typed where a name or field belongs would be quoted back: any key of the
    /// file found in a message, as a whole word, is replaced.
    /// </summary>
    private static List<TenancyConfigError> Scrub(List<TenancyConfigError> errors, IReadOnlyList<string> keys)
    {
        var ordered = keys.Distinct(StringComparer.Ordinal).OrderByDescending(k => k.Length).ToList();
        return errors.Select(e => e with { Path = Scrub(e.Path, ordered), Reason = Scrub(e.Reason, ordered) }).ToList();
    }

    private static string Scrub(string text, List<string> keys)
    {
        foreach (var key in keys)
        {
            var at = 0;
            while ((at = text.IndexOf(key, at, StringComparison.Ordinal)) >= 0)
            {
                var end = at + key.Length;
                if ((at > 0 && IsWordChar(text[at - 1])) || (end < text.Length && IsWordChar(text[end])))
                {
                    at = end;
                    continue;
                }

                text = string.Concat(text.AsSpan(0, at), KeyPlaceholder, text.AsSpan(end));
                at += KeyPlaceholder.Length;
            }
        }

        return text;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';

    private static TenancyLoadResult Unreadable(string path, string reason) =>
        new(TenancyLoadOutcome.Unreadable, null, [new TenancyConfigError(path, "", reason)], null);
}
