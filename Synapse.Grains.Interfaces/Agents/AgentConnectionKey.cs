namespace Synapse.Grains.Agents;

/// <summary>
/// Keys of grains pinned to one silo: the silo's parsable address (which includes its generation, so a restarted
/// silo never inherits stale keys), optionally followed by '/' and a local id.
/// </summary>
public static class AgentConnectionKey
{
    public static string Create(SiloAddress silo, string localId) => $"{silo.ToParsableString()}/{localId}";

    public static string ForSilo(SiloAddress silo) => silo.ToParsableString();

    public static bool TryGetSilo(string key, out SiloAddress? silo)
    {
        silo = null;
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var siloPart = slash < 0 ? key : key[..slash];
        try
        {
            silo = SiloAddress.FromParsableString(siloPart);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
