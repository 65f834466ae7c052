using System.Text.Json;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Silo.Cluster;
using Synapse.Silo.Hosting;
using Synapse.Grains.Cluster;

namespace Synapse.Silo.Api.Models;

/// <summary>
/// The models the cluster serves, asked of every silo's socket directory (the sockets are the truth), merged per
/// model: metadata fields all instances agree on are kept, and <c>client_count</c> says how many serve it.
/// </summary>
internal sealed partial class ModelCatalog(IGrainFactory grains, ClusterView cluster, IOptions<GatewayOptions> options, ILogger<ModelCatalog> logger)
{
    /// <summary>The models of one key group (another group's, even of the same name, are never merged in).</summary>
    public async Task<IReadOnlyList<ModelEntry>> ListAsync(string group, CancellationToken cancellationToken)
    {
        var silos = cluster.ActiveSilos;
        if (silos.Count == 0)
        {
            silos = [cluster.LocalSilo];
        }

        var answers = await SiloFanOut.AskDirectoriesAsync(grains, silos, d => d.GetModels(), options.Value.SiloAnswerTimeout, cancellationToken);
        foreach (var silent in answers.Where(a => !a.Answered))
        {
            LogSiloUnanswered(logger, silent.Failure!, silent.Silo);
        }

        return [.. answers
            .Where(a => a.Answered)
            .SelectMany(a => a.Value!)
            .Where(m => m.Group == group)
            .GroupBy(m => m.ModelId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(Merge)];
    }

    private static ModelEntry Merge(IGrouping<string, AdvertisedModel> group)
    {
        // One agent may advertise a model over several sockets; it is still one instance.
        var perAgent = group.GroupBy(m => m.AgentId, StringComparer.Ordinal).Select(g => g.First()).ToArray();
        var documents = perAgent.Select(m => Parse(m.MetadataJson)).ToArray();
        try
        {
            var agreed = new List<KeyValuePair<string, JsonElement>>();
            var first = documents[0].RootElement;
            foreach (var property in first.EnumerateObject())
            {
                var same = true;
                for (var i = 1; i < documents.Length && same; i++)
                {
                    same = documents[i].RootElement.TryGetProperty(property.Name, out var other) && JsonElement.DeepEquals(property.Value, other);
                }

                if (same)
                {
                    agreed.Add(new KeyValuePair<string, JsonElement>(property.Name, property.Value.Clone()));
                }
            }

            long? created = null;
            foreach (var document in documents)
            {
                if (document.RootElement.TryGetProperty("created", out var value) && value.TryGetInt64(out var seconds))
                {
                    created = created is null ? seconds : Math.Min(created.Value, seconds);
                }
            }

            return new ModelEntry(group.Key, agreed, created, perAgent.Length);
        }
        finally
        {
            foreach (var document in documents)
            {
                document.Dispose();
            }
        }
    }

    private static JsonDocument Parse(string json)
    {
        try
        {
            var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
        }
        catch (JsonException)
        {
        }

        return JsonDocument.Parse("{}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} did not list its models; answering without them")]
    private static partial void LogSiloUnanswered(ILogger logger, Exception exception, SiloAddress silo);
}
