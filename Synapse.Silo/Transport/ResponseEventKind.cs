namespace Synapse.Silo.Transport;

internal enum ResponseEventKind : byte
{
    Head,
    Body,
    End,
}
