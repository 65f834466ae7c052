using System.Net;
using System.Net.Sockets;

namespace Synapse.Tests.Infrastructure;

/// <summary>Ports chosen free at run time on loopback.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Handed)
            {
                // The OS may hand the same ephemeral port twice before anyone binds it.
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
