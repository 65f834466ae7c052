namespace Synapse.Client.Engine;

/// <summary>The few gauges of an engine's <c>/metrics</c> the agent reads; every other sample is skipped.</summary>
internal enum EngineGauge
{
    None,
    Running,
    Waiting,
    KvUsage,

    /// <summary>An older name of the KV-cache gauge, used only when the current one is missing.</summary>
    KvUsageLegacy,
}
