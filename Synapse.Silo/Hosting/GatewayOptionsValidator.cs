using Microsoft.Extensions.Options;

namespace Synapse.Silo.Hosting;

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var failures = new List<string>();
        Check(failures, o.Port is >= 0 and <= 65535, "--port must be 0-65535.");
        Check(failures, o.MaxRequestBodyBytes is > 0 and <= 1L << 31, "--max-request-body must be between 1 byte and 2 GiB.");
        Check(failures, o.MaxAttempts is >= 1 and <= 10, "Synapse:Gateway:MaxAttempts must be 1-10.");
        Check(failures, o.MaxPathRetries is >= 0 and <= 1000, "Synapse:Gateway:MaxPathRetries must be 0-1000.");
        Check(failures, o.DrainTimeout >= TimeSpan.Zero, "--drain-timeout must not be negative.");
        Check(failures, o.FailoverWait >= TimeSpan.Zero && o.FailoverWait <= TimeSpan.FromMinutes(1), "Synapse:Gateway:FailoverWait must be 0 to 60 seconds.");
        Check(failures, o.PathRetryWindow >= TimeSpan.Zero && o.RegistryRetryWindow >= TimeSpan.Zero, "Synapse:Gateway: the retry windows must not be negative.");
        Check(failures, o.SiloAnswerTimeout > TimeSpan.Zero, "Synapse:Gateway:SiloAnswerTimeout must be positive.");
        Check(failures, o.IdleTimeout > TimeSpan.Zero && o.KeepAliveInterval > TimeSpan.Zero, "--idle-timeout and Synapse:Gateway:KeepAliveInterval must be positive.");
        Check(failures, o.NonStreamingBufferBytes > 0, "Synapse:Gateway:NonStreamingBufferBytes must be positive.");
        Check(failures, o.RequestHeadersTimeout > TimeSpan.Zero, "Synapse:Gateway:RequestHeadersTimeout must be positive.");
        Check(
            failures,
            o.MinRequestBodyBytesPerSecond > 0 && o.RequestBodyGracePeriod > TimeSpan.FromSeconds(1),
            "Synapse:Gateway:MinRequestBodyBytesPerSecond must be positive and RequestBodyGracePeriod more than 1 s.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static void Check(List<string> failures, bool valid, string failure)
    {
        if (!valid)
        {
            failures.Add(failure);
        }
    }
}
