using System.Text.Encodings.Web;
using System.Text.Json;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Api.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in OpenAI's list and model shapes.</summary>
internal static class ModelsEndpoint
{
    public static async Task ListAsync(HttpContext context)
    {
        var models = await VisibleAsync(context);
        await WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in models)
            {
                model.WriteTo(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public static async Task GetAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var model = (await VisibleAsync(context)).FirstOrDefault(m => m.Id == id);
        if (model is null)
        {
            await OpenAIError.ModelNotFound(context, id);
            return;
        }

        await WriteJsonAsync(context, model.WriteTo);
    }

    /// <summary>
    /// What the caller may see: its group's served models within its allow-list, and its group's aliases of them
    /// (listed as models of their own, with the target's metadata), sorted by name.
    /// </summary>
    private static async Task<IReadOnlyList<ModelEntry>> VisibleAsync(HttpContext context)
    {
        var caller = context.Caller();
        var group = caller.Group!;
        var served = await context.RequestServices.GetRequiredService<ModelCatalog>().ListAsync(group.Name, context.RequestAborted);
        var visible = served.Where(m => caller.CanUse(m.Id)).ToList();
        foreach (var (alias, target) in group.Aliases.Targets)
        {
            if (caller.Route(alias) is not null && served.FirstOrDefault(m => m.Id == target) is { } model)
            {
                visible.Add(model with { Id = alias });
            }
        }

        return [.. visible.OrderBy(m => m.Id, StringComparer.Ordinal)];
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}
