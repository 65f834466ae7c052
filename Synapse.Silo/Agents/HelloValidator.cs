using System.Text;
using System.Text.Json;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Agents;

/// <summary>Checks what an agent claims before anything of it reaches a grain.</summary>
internal static class HelloValidator
{
    public static RejectMessage? Validate(HelloMessage hello, AgentSessionOptions options, string? downloadUrl)
    {
        if (hello.ProtocolVersion < options.MinProtocolVersion || hello.ProtocolVersion > options.MaxProtocolVersion)
        {
            return new RejectMessage
            {
                Code = RejectMessage.VersionMismatch,
                Reason = $"this gateway (version {ProtocolVersion.Product}) accepts agent protocol {options.MinProtocolVersion}"
                    + (options.MaxProtocolVersion != options.MinProtocolVersion ? $" to {options.MaxProtocolVersion}" : string.Empty)
                    + $", but the agent (version {hello.ProductVersion}) speaks protocol {hello.ProtocolVersion}",
                ServerVersion = ProtocolVersion.Product,
                ProtocolVersion = ProtocolVersion.Current,
                MinProtocolVersion = options.MinProtocolVersion,
                MaxProtocolVersion = options.MaxProtocolVersion,
                DownloadUrl = downloadUrl is null ? null : $"{downloadUrl}?os=linux&arch={Install.ClientBinaries.NormalizeArch(hello.Arch) switch { "arm64" => "arm64", _ => "x64" }}",
            };
        }

        var problem = CheckAgentId(hello.AgentId)
            ?? CheckText(hello.Name, "name")
            ?? CheckText(hello.Hostname, "hostname")
            ?? CheckText(hello.ProductVersion, "product version")
            ?? (hello.Capacity is < 1 or > ProtocolLimits.MaxCapacity ? $"capacity must be between 1 and {ProtocolLimits.MaxCapacity}" : null)
            ?? CheckInstanceToken(hello.InstanceToken)
            ?? CheckModels(hello.Models);
        return problem is null ? null : Invalid(problem);
    }

    public static string? CheckModels(IReadOnlyList<ModelAdvert>? models)
    {
        if (models is null)
        {
            return "models are missing";
        }

        if (models.Count > ProtocolLimits.MaxModelsPerAgent)
        {
            return $"{models.Count} models exceed the limit of {ProtocolLimits.MaxModelsPerAgent} per agent";
        }

        foreach (var model in models)
        {
            if (string.IsNullOrWhiteSpace(model.Id) || Encoding.UTF8.GetByteCount(model.Id) > ProtocolLimits.MaxModelIdBytes)
            {
                return $"a model id is empty or longer than {ProtocolLimits.MaxModelIdBytes} bytes";
            }

            if (model.Id.Any(char.IsControl))
            {
                return "a model id contains control characters";
            }
        }

        return null;
    }

    /// <summary>The upstream's metadata object for a model, or a minimal one when the agent sent something else.</summary>
    public static string MetadataOf(ModelAdvert model) =>
        model.Metadata.ValueKind == JsonValueKind.Object ? model.Metadata.GetRawText() : "{}";

    public static RejectMessage Invalid(string problem) => Refuse(RejectMessage.InvalidHello, problem);

    public static RejectMessage Refuse(string code, string reason) => new()
    {
        Code = code,
        Reason = reason,
        ServerVersion = ProtocolVersion.Product,
        ProtocolVersion = ProtocolVersion.Current,
    };

    private static string? CheckAgentId(string? agentId)
    {
        if (string.IsNullOrEmpty(agentId) || agentId.Length > ProtocolLimits.MaxAgentIdLength)
        {
            return $"agent id must be 1 to {ProtocolLimits.MaxAgentIdLength} characters";
        }

        return ProtocolLimits.IsValidAgentId(agentId) ? null : "agent id may contain only letters, digits, '-', '_', '.' and ':'";
    }

    private static string? CheckInstanceToken(string? token) =>
        token is null || (token.Length is > 0 and <= 64 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            ? null
            : "instance token must be 1 to 64 letters, digits, '-' or '_'";

    private static string? CheckText(string? value, string what) =>
        value is not null && (value.Length > ProtocolLimits.MaxNameBytes || value.Any(char.IsControl))
            ? $"{what} is longer than {ProtocolLimits.MaxNameBytes} characters or contains control characters"
            : null;
}
