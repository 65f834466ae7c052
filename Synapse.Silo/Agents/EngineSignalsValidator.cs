using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Agents;

/// <summary>Checks an <c>EngineSignals</c> frame before anything of it is kept: a frame that breaks a rule closes the socket.</summary>
internal static class EngineSignalsValidator
{
    /// <summary>Reading more often than this is not what the frame is for; an agent claiming it is broken.</summary>
    public const int MinIntervalMs = 50;

    public const int MaxIntervalMs = 3_600_000;

    /// <summary>Counts above this are no engine's real queue.</summary>
    public const int MaxCount = 10_000_000;

    /// <summary>Null when the frame is acceptable, else what is wrong (for the close reason and the log).</summary>
    public static string? Check(EngineSignalsMessage message, int agentProtocol, IReadOnlyDictionary<string, string> advertised)
    {
        if (agentProtocol < ProtocolVersion.EngineSignals)
        {
            return $"engine signals need protocol {ProtocolVersion.EngineSignals}, the agent said {agentProtocol} in its hello";
        }

        if (message.IntervalMs is < MinIntervalMs or > MaxIntervalMs)
        {
            return $"interval must be {MinIntervalMs} to {MaxIntervalMs} ms";
        }

        if (message.Engine is { } engine && (engine.Length > 32 || engine.Any(char.IsControl)))
        {
            return "engine name is longer than 32 characters or contains control characters";
        }

        if (message.Models is null)
        {
            return "models are missing";
        }

        if (message.Models.Count > ProtocolLimits.MaxModelsPerAgent)
        {
            return $"{message.Models.Count} models exceed the limit of {ProtocolLimits.MaxModelsPerAgent} per agent";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in message.Models)
        {
            if (model?.Model is null || !advertised.ContainsKey(model.Model))
            {
                return "signals for a model this socket does not serve";
            }

            if (!seen.Add(model.Model))
            {
                return "a model appears twice";
            }

            if (model.Running is < 0 or > MaxCount || model.Waiting is < 0 or > MaxCount || model.Capacity is < 0 or > MaxCount)
            {
                return $"running, waiting and capacity must be 0 to {MaxCount}";
            }

            if (model.KvUsage is { } kv && !(kv >= 0 && kv <= 1))
            {
                return "KV usage must be a number from 0 to 1";
            }
        }

        return null;
    }
}
