namespace Synapse.Silo.Cluster;

/// <summary>One silo's answer, or why there is none.</summary>
internal readonly record struct SiloAnswer<T>(SiloAddress Silo, T? Value, Exception? Failure)
{
    public bool Answered => Failure is null;
}
