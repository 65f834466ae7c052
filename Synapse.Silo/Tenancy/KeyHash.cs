using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// The SHA-256 of a key (its UTF-8 bytes). Keys are looked up and compared only in this form: a lookup by hash may
/// take data-dependent time, but what it could leak is about the hash, which says nothing usable about the key;
/// the final comparison is <see cref="CryptographicOperations.FixedTimeEquals"/> all the same. Agent sessions
/// keep this, never the key, to check after a reload whether their key still admits them.
/// </summary>
public readonly struct KeyHash : IEquatable<KeyHash>
{
    public const int Size = 32;

    // Four words instead of an array: a struct that is cheap to hash, copy and keep in a dictionary.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private KeyHash(ReadOnlySpan<byte> hash)
    {
        _a = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]);
    }

    /// <summary>Hashes a key as presented (no trimming: callers trim where the format says so).</summary>
    public static KeyHash Of(ReadOnlySpan<char> key)
    {
        Span<byte> hash = stackalloc byte[Size];
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(key, buffer);
            SHA256.HashData(buffer[..written], hash);
            return new KeyHash(hash);
        }
        finally
        {
            if (rented is not null)
            {
                CryptographicOperations.ZeroMemory(rented.AsSpan(0, length));
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Parses 64 hex digits (either case), as <c>sha256sum</c> prints them.</summary>
    public static bool TryParseHex(string hex, out KeyHash hash)
    {
        hash = default;
        Span<byte> bytes = stackalloc byte[Size];
        if (hex.Length != Size * 2 || Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Size)
        {
            return false;
        }

        hash = new KeyHash(bytes);
        return true;
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    /// <summary>Compares all 32 bytes in constant time.</summary>
    public bool FixedTimeEquals(KeyHash other)
    {
        Span<byte> mine = stackalloc byte[Size];
        Span<byte> theirs = stackalloc byte[Size];
        CopyTo(mine);
        other.CopyTo(theirs);
        return CryptographicOperations.FixedTimeEquals(mine, theirs);
    }

    // No early exit either, though a hash is no secret.
    public bool Equals(KeyHash other) => ((_a ^ other._a) | (_b ^ other._b) | (_c ^ other._c) | (_d ^ other._d)) == 0;

    public override bool Equals(object? obj) => obj is KeyHash other && Equals(other);

    public override int GetHashCode() => (int)_a;

    /// <summary>Never the key; only an abbreviation of its hash, for diagnostics.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return "sha256:" + Convert.ToHexStringLower(bytes[..4]) + "…";
    }

    public static bool operator ==(KeyHash left, KeyHash right) => left.Equals(right);

    public static bool operator !=(KeyHash left, KeyHash right) => !left.Equals(right);
}
