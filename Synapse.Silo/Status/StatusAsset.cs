using System.IO.Compression;
using System.Security.Cryptography;

namespace Synapse.Silo.Status;

/// <summary>
/// One file of the status page, embedded in the build (so the page works offline and air-gapped), kept as is and
/// gzipped, with an ETag of its content so browsers revalidate instead of downloading it again.
/// </summary>
internal sealed class StatusAsset
{
    private StatusAsset(string contentType, byte[] body)
    {
        ContentType = contentType;
        Body = body;
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(body);
        }

        Gzipped = compressed.ToArray();
        ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 8))}\"";
    }

    public string ContentType { get; }

    public byte[] Body { get; }

    public byte[] Gzipped { get; }

    public string ETag { get; }

    public static StatusAsset Load(string resource, string contentType)
    {
        using var stream = typeof(StatusAsset).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is missing from the build.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return new StatusAsset(contentType, buffer.ToArray());
    }
}
