using Microsoft.Extensions.Options;

namespace Synapse.Grains.Relay;

internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var failures = new List<string>();
        if (RelayTransports.Find(options.Transport) is null)
        {
            failures.Add($"Synapse:Relay:Transport must be one of {string.Join(", ", RelayTransports.All)} (got '{options.Transport}').");
        }

        if (options.PollingPeriod <= TimeSpan.Zero || options.Queues <= 0)
        {
            failures.Add("Synapse:Relay needs a positive polling period and queue count.");
        }

        if (options.StallTimeout <= options.KeepAliveInterval * 2 || options.SettlingStallTimeout <= options.KeepAliveInterval)
        {
            failures.Add("Synapse:Relay:StallTimeout must exceed twice the keepalive interval, SettlingStallTimeout the interval.");
        }

        if (options.AcceptTimeout <= TimeSpan.Zero || options.SettlingAcceptTimeout <= TimeSpan.Zero || options.StallCheckPeriod <= TimeSpan.Zero)
        {
            failures.Add("Synapse:Relay: the accept timeouts and the stall check period must be positive.");
        }

        if (options.PullRetryMaxDelay <= TimeSpan.Zero || options.PublishRetryWindow < TimeSpan.Zero)
        {
            failures.Add("Synapse:Relay:PullRetryMaxDelay must be positive and PublishRetryWindow not negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
