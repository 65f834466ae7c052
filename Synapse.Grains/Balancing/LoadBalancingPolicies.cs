namespace Synapse.Grains.Balancing;

public static class LoadBalancingPolicies
{
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";
    public const string LeastLoaded = "LeastLoaded";
    public const string RoundRobin = "RoundRobin";
}
