using System.Text.Encodings.Web;
using System.Text.Json;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Api.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in OpenAI's list and model shapes.</summary>
internal static class ModelsEndpoint
{
    public static async Task ListAsync(HttpContext context)
    {
        var catalog = context.RequestServices.GetRequiredService<ModelCatalog>();
        var models = await catalog.ListAsync(context.RequestAborted);
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
        var catalog = context.RequestServices.GetRequiredService<ModelCatalog>();
        var models = await catalog.ListAsync(context.RequestAborted);
        var model = models.FirstOrDefault(m => m.Id == id);
        if (model is null)
        {
            await OpenAIError.ModelNotFound(context, id);
            return;
        }

        await WriteJsonAsync(context, model.WriteTo);
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
