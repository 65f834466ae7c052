using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Agents;

internal sealed class AgentSessionOptionsValidator : IValidateOptions<AgentSessionOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentSessionOptions o)
    {
        var failures = new List<string>();
        GatewayOptionsValidator.Check(failures, o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatTimeout > o.HeartbeatInterval, "Synapse:Agents: the heartbeat timeout must exceed the interval.");
        GatewayOptionsValidator.Check(failures, o.MaxFrameBytes is >= 64 * 1024 and <= 64 * 1024 * 1024, "Synapse:Agents:MaxFrameBytes must be 64 KiB to 64 MiB.");
        GatewayOptionsValidator.Check(failures, o.InitialWindowBytes >= 16 * 1024, "Synapse:Agents:InitialWindowBytes must be at least 16 KiB.");
        GatewayOptionsValidator.Check(failures, o.MaxQueuedBytes >= o.MaxFrameBytes && o.MaxTotalQueuedBytes >= o.MaxFrameBytes, "Synapse:Agents: the send queue limits must hold at least one frame (MaxFrameBytes).");
        GatewayOptionsValidator.Check(failures, o.HandshakeTimeout > TimeSpan.Zero && o.CloseTimeout > TimeSpan.Zero && o.IdentityTimeout > TimeSpan.Zero, "Synapse:Agents: the handshake, close and identity timeouts must be positive.");
        GatewayOptionsValidator.Check(failures, o.RegistrationRefreshInterval > TimeSpan.Zero && o.RegistrationRetryDelay > TimeSpan.Zero, "Synapse:Agents: the registration refresh and retry periods must be positive.");
        GatewayOptionsValidator.Check(failures, o.MinProtocolVersion >= 1 && o.MaxProtocolVersion >= o.MinProtocolVersion, "Synapse:Agents: the protocol range must be 1 <= MinProtocolVersion <= MaxProtocolVersion.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
