namespace Synapse.Grains.Limits;

/// <summary>Requests a silo may admit now without asking again, with the request bucket as the grant left it.</summary>
[GenerateSerializer, Immutable, Alias("synapse.RequestGrant")]
public readonly record struct RequestGrant([property: Id(0)] int Granted, [property: Id(1)] LimitWindow Window);
