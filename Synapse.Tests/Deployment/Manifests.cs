using System.Text.Json;

namespace Synapse.Tests.Deployment;

/// <summary>Finding things in rendered Kubernetes objects (JSON).</summary>
public static class Manifests
{
    public static IEnumerable<JsonElement> OfKind(this JsonElement objects, string kind) =>
        objects.EnumerateArray().Where(o => o.GetProperty("kind").GetString() == kind);

    /// <summary>The gateway's Deployment: the one labelled component=gateway.</summary>
    public static JsonElement GatewayDeployment(this JsonElement objects) =>
        Assert.Single(objects.OfKind("Deployment"), d => Label(d, "app.kubernetes.io/component") == "gateway");

    public static JsonElement PodSpec(this JsonElement workload) =>
        workload.GetProperty("spec").GetProperty("template").GetProperty("spec");

    public static JsonElement Container(this JsonElement workload, string name) =>
        Assert.Single(workload.PodSpec().GetProperty("containers").EnumerateArray(), c => c.GetProperty("name").GetString() == name);

    public static IReadOnlyDictionary<string, JsonElement> Env(this JsonElement container) =>
        container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e);

    public static string? PodLabel(this JsonElement workload, string key) =>
        workload.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels")
            .TryGetProperty(key, out var value) ? value.GetString() : null;

    public static string? Label(JsonElement o, string key) =>
        o.GetProperty("metadata").TryGetProperty("labels", out var labels) && labels.TryGetProperty(key, out var value)
            ? value.GetString()
            : null;

    public static string? At(this JsonElement o, params string[] path)
    {
        foreach (var part in path)
        {
            if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(part, out o))
            {
                return null;
            }
        }

        return o.ValueKind == JsonValueKind.String ? o.GetString() : o.GetRawText();
    }
}
