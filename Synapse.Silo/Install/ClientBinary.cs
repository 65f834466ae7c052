namespace Synapse.Silo.Install;

/// <summary>One agent binary the gateway serves: its platform (<c>linux-x64</c>, ...) and where it lies.</summary>
internal sealed record ClientBinary(string Platform, FileInfo File);
