namespace Synapse.Silo.Cluster;

/// <summary>Marks the gateway ready once its silo is active in the cluster (grains, streams and all).</summary>
internal sealed class SiloReadiness(GatewayState state) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloReadiness), ServiceLifecycleStage.Active, _ =>
        {
            state.MarkJoined();
            return Task.CompletedTask;
        });
}
