namespace Synapse.Grains.Balancing;

public static class LoadBalancingPolicies
{
    /// <summary>The default: engine queues and KV caches where agents report them, else <see cref="PowerOfTwoChoices"/>.</summary>
    public const string EngineAware = "EngineAware";

    public const string PowerOfTwoChoices = "PowerOfTwoChoices";
    public const string LeastLoaded = "LeastLoaded";
    public const string RoundRobin = "RoundRobin";
}
