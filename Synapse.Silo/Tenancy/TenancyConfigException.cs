namespace Synapse.Silo.Tenancy;

/// <summary>
/// The gateway cannot start with this key-groups setup: the file is invalid or unreadable, or <c>--config</c> was
/// combined with the single-key flags. <c>GatewayHost.RunAsync</c> prints the message and exits with code 2.
/// </summary>
public sealed class TenancyConfigException : InvalidOperationException
{
    public TenancyConfigException()
    {
        Errors = [];
    }

    public TenancyConfigException(string message)
        : base(message)
    {
        Errors = [];
    }

    public TenancyConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public TenancyConfigException(string file, IReadOnlyList<TenancyConfigError> errors)
        : base(Describe(file, errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<TenancyConfigError> Errors { get; }

    private static string Describe(string file, IReadOnlyList<TenancyConfigError> errors) =>
        $"key-groups file {file} ({(errors.Count == 1 ? "1 error" : $"{errors.Count} errors")}):{Environment.NewLine}  "
        + string.Join($"{Environment.NewLine}  ", errors);
}
