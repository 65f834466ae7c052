namespace Synapse.Silo.Tenancy;

/// <summary>What made the gateway read the key-groups file.</summary>
public enum TenancyReloadTrigger
{
    /// <summary>Start-up: the file must be valid or the gateway does not start.</summary>
    Startup,

    /// <summary>The directory watcher saw a change (an edit, or Kubernetes swapping its <c>..data</c> link).</summary>
    FileChanged,

    /// <summary>The periodic content check found a difference the watcher missed.</summary>
    Poll,

    /// <summary>SIGHUP: read again even when the content looks unchanged.</summary>
    Signal,
}
