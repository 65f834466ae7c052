using Microsoft.Extensions.Options;

namespace Synapse.Silo.Hosting;

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions o)
    {
        var failures = new List<string>();
        GatewayOptionsValidator.Check(failures, !string.IsNullOrWhiteSpace(o.ClusterId) && !string.IsNullOrWhiteSpace(o.ServiceId), "--cluster-id and --service-id must not be empty.");
        GatewayOptionsValidator.Check(failures, o.AdvertiseAddress is null || System.Net.IPAddress.TryParse(o.AdvertiseAddress, out _), "--advertise-address must be an IP address.");
        GatewayOptionsValidator.Check(failures, o.SiloPort is >= 0 and <= 65535 && o.GatewayPort is >= 0 and <= 65535, "--silo-port and --gateway-port must be 0-65535.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
