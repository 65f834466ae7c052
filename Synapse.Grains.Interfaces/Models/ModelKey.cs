namespace Synapse.Grains.Models;

/// <summary>
/// A model grain's key: the key group and the model name. The same model name in two groups is two pools of
/// instances, never one. Group names never contain '/' (the config refuses them); model names may.
/// </summary>
public static class ModelKey
{
    public static string For(string group, string model) => $"{group}/{model}";

    public static (string Group, string Model) Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, key) : (key[..slash], key[(slash + 1)..]);
    }
}
