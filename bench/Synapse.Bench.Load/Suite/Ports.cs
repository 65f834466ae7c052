using System.Net;
using System.Net.Sockets;

namespace Synapse.Bench.Load.Suite;

/// <summary>Free loopback ports, each handed out once per run.</summary>
internal static class Ports
{
    private static readonly HashSet<int> Given = [];

    public static int Free()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Given)
            {
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
