using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Synapse.Bench.Load.Suite;

/// <summary>
/// Refuses to measure unoptimized code: a Debug build of any product assembly next to the gateway or the agent
/// (which a solution build that does not list a referenced project produces silently) would make every figure wrong.
/// </summary>
internal static class BuildCheck
{
    private const int DisableOptimizations = 256;

    public static void RequireOptimized(IEnumerable<string> assemblies)
    {
        var unoptimized = assemblies.Where(File.Exists).Where(a => !IsOptimized(a)).ToArray();
        if (unoptimized.Length > 0)
        {
            throw new InvalidOperationException("these assemblies were built without optimizations (Debug); rebuild in Release: " + string.Join(", ", unoptimized));
        }
    }

    public static bool IsOptimized(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }

            var constructor = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (constructor.Parent.Kind != HandleKind.TypeReference
                || metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)constructor.Parent).Name) != "DebuggableAttribute")
            {
                continue;
            }

            var value = metadata.GetBlobReader(attribute.Value);
            value.ReadUInt16(); // prolog
            if (value.RemainingBytes >= 4 + 2)
            {
                // DebuggableAttribute(DebuggingModes)
                return (value.ReadInt32() & DisableOptimizations) == 0;
            }

            // DebuggableAttribute(bool isJITTrackingEnabled, bool isJITOptimizerDisabled)
            value.ReadBoolean();
            return !value.ReadBoolean();
        }

        return true;
    }
}
