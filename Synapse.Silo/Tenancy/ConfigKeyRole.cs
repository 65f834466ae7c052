namespace Synapse.Silo.Tenancy;

/// <summary>Which list of the file a key was read from.</summary>
internal enum ConfigKeyRole
{
    Api,
    Agent,
    Admin,
}
