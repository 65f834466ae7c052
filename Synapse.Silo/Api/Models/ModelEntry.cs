using System.Text.Json;

namespace Synapse.Silo.Api.Models;

/// <summary>One model of <c>GET /v1/models</c>: the metadata its instances agree on and how many serve it.</summary>
internal sealed record ModelEntry(string Id, IReadOnlyList<KeyValuePair<string, JsonElement>> Metadata, long? Created, int Instances)
{
    private static readonly HashSet<string> Written = new(StringComparer.Ordinal) { "id", "object", "created", "owned_by", "client_count" };

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("id", Id);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", Created ?? 0);
        var owner = Metadata.FirstOrDefault(m => m.Key == "owned_by");
        writer.WriteString("owned_by", owner.Value.ValueKind == JsonValueKind.String ? owner.Value.GetString() : "synapse");
        foreach (var (name, value) in Metadata)
        {
            if (!Written.Contains(name))
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        writer.WriteNumber("client_count", Instances);
        writer.WriteEndObject();
    }
}
