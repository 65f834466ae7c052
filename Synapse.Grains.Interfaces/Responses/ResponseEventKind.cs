namespace Synapse.Grains.Responses;

[GenerateSerializer, Alias("synapse.ResponseEventKind")]
public enum ResponseEventKind : byte
{
    Head = 0,
    Body = 1,
    End = 2,
}
