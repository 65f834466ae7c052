namespace Synapse.Grains.Models;

[GenerateSerializer, Immutable, Alias("synapse.ModelSnapshot")]
public sealed record ModelSnapshot
{
    [Id(0)] public required string Model { get; init; }

    [Id(1)] public required InstanceSnapshot[] Instances { get; init; }

    [Id(2)] public required int Queued { get; init; }

    [Id(3)] public required string Policy { get; init; }

    [Id(4)] public string Group { get; init; } = string.Empty;
}
