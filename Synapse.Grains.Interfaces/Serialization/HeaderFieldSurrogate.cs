using Synapse.Protocol.Messages;

namespace Synapse.Grains.Serialization;

/// <summary>Lets the protocol's <see cref="HeaderField"/> (which knows nothing of Orleans) cross grain calls.</summary>
[GenerateSerializer, Immutable, Alias("synapse.HeaderField")]
public readonly struct HeaderFieldSurrogate
{
    [Id(0)] public readonly string Name;
    [Id(1)] public readonly string Value;

    public HeaderFieldSurrogate(string name, string value)
    {
        Name = name;
        Value = value;
    }
}

[RegisterConverter]
public sealed class HeaderFieldSurrogateConverter : IConverter<HeaderField, HeaderFieldSurrogate>
{
    public HeaderField ConvertFromSurrogate(in HeaderFieldSurrogate surrogate) => new(surrogate.Name, surrogate.Value);

    public HeaderFieldSurrogate ConvertToSurrogate(in HeaderField value) => new(value.Name, value.Value);
}
