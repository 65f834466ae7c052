namespace Synapse.Silo.Tenancy;

/// <summary>What is wrong with one entry of a group's <c>aliases</c> or <c>fallbacks</c>: the entry's name and why.</summary>
public sealed record ModelMapProblem(string Name, string Reason);
