namespace Synapse.Silo.Tenancy;

/// <summary>
/// How values from the file appear in error messages: quoted, and only when short and printable. A key is never
/// shown by design (messages name keys by their place); <see cref="TenancyFileReader"/> also scrubs any key of the
/// file from every message, in case one was typed where a name belongs.
/// </summary>
internal static class ConfigText
{
    public const int MaxShown = 64;

    public static string Name(string value) =>
        value.Length is > 0 and <= MaxShown && !value.Any(char.IsControl) ? $"'{value}'" : "(not shown)";
}
