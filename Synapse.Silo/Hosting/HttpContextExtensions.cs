namespace Synapse.Silo.Hosting;

internal static class HttpContextExtensions
{
    /// <summary>The caller's address and port, as refusal log lines name it.</summary>
    public static string RemoteEndpoint(this HttpContext context) =>
        $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
}
