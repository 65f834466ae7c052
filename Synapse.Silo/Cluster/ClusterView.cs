namespace Synapse.Silo.Cluster;

/// <summary>This silo's view of cluster membership, for counting and liveness checks.</summary>
internal sealed class ClusterView(IClusterMembershipService membership, ILocalSiloDetails local)
{
    public SiloAddress LocalSilo => local.SiloAddress;

    public int ActiveSiloCount => Math.Max(1, membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active));

    public IReadOnlyList<SiloAddress> ActiveSilos =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)];

    public IReadOnlyList<ClusterMember> Members => [.. membership.CurrentSnapshot.Members.Values];

    public bool IsDead(SiloAddress silo) =>
        membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Dead;
}
