using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Synapse.Bench.Load.Balancer;

/// <summary>
/// A round-robin TCP balancer, the benchmark's stand-in for a Kubernetes Service in front of several silos: each
/// accepted connection goes to the next backend in turn (a backend that refuses is skipped, the next one tried), and
/// bytes are piped both ways until either side closes. It knows nothing of HTTP or WebSockets, so a caller's
/// keep-alive connection and an agent's socket stay on the silo they first reached, as behind a Service.
/// </summary>
internal sealed class TcpBalancer(IPEndPoint listen, IReadOnlyList<IPEndPoint> backends) : IDisposable
{
    private const int BufferBytes = 16 * 1024;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private int _next = -1;
    private long _accepted;
    private long _refused;

    /// <summary>Connections accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections closed at once because no backend accepted them.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public void Start()
    {
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(listen);
        _listener.Listen(4096);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        client.NoDelay = true;
        var backend = await ConnectAsync(cancellationToken);
        if (backend is null)
        {
            Interlocked.Increment(ref _refused);
            Abort(client);
            return;
        }

        try
        {
            // Either direction failing (a reset, a killed process) aborts both sides, so the other end learns at once.
            await Task.WhenAll(PumpAsync(client, backend), PumpAsync(backend, client));
        }
        finally
        {
            client.Dispose();
            backend.Dispose();
        }
    }

    /// <summary>The next backend in turn that accepts a connection; null when none does.</summary>
    private async Task<Socket?> ConnectAsync(CancellationToken cancellationToken)
    {
        var first = (uint)Interlocked.Increment(ref _next);
        for (var attempt = 0; attempt < backends.Count; attempt++)
        {
            var endpoint = backends[(int)((first + (uint)attempt) % (uint)backends.Count)];
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(endpoint, timeout.Token);
                return socket;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
            }
        }

        return null;
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                {
                    // A clean close: pass the FIN on and let the other direction finish on its own.
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Abort(from);
            Abort(to);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Closes with a reset (linger 0), as a dead peer would look.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _listener.Dispose();
}
