namespace Synapse.Grains.Relay;

/// <summary>
/// One inbox stream of one silo (key: silo address / shard). It receives the response batches other silos publish
/// for callers on this silo, through an implicit subscription, so no pub-sub state exists that a dying silo could
/// take with it.
/// </summary>
[Alias("synapse.IInboxGrain")]
public interface IInboxGrain : IGrainWithStringKey;
