namespace Synapse.Silo.Tenancy;

/// <summary>What a <see cref="ConfigNode"/> holds, whichever syntax (YAML or JSON) it was read from.</summary>
internal enum ConfigNodeKind
{
    Null,
    Scalar,
    Mapping,
    Sequence,
}
