using System.Diagnostics;
using Synapse.Protocol;

namespace Synapse.Silo.Observability;

/// <summary>The gateway's trace source: one span per proxied call, child of the ASP.NET Core request span.</summary>
internal static class GatewayActivity
{
    public const string SourceName = "Synapse.Gateway";

    public static readonly ActivitySource Source = new(SourceName, ProtocolVersion.Product);
}
