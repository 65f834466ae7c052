namespace Synapse.Silo.Observability.History;

/// <summary>The sparse time-to-first-token entries of <see cref="Grains.Observability.SiloHistory"/>: second offset, bucket, count in one 32-bit word.</summary>
internal static class HistoryPacking
{
    public static uint Pack(int offset, int bucket, int count) => ((uint)offset << 22) | ((uint)bucket << 16) | (uint)Math.Min(count, ushort.MaxValue);

    public static (int Offset, int Bucket, int Count) Unpack(uint entry) => ((int)(entry >> 22), (int)((entry >> 16) & 0x3F), (int)(entry & 0xFFFF));
}
