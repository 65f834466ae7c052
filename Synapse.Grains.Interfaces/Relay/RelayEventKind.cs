namespace Synapse.Grains.Relay;

[GenerateSerializer, Alias("synapse.RelayEventKind")]
public enum RelayEventKind : byte
{
    Head = 0,
    Body = 1,
    End = 2,
}
