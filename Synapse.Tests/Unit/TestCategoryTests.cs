using System.Reflection;

namespace Synapse.Tests.Unit;

/// <summary>
/// <c>dotnet test --filter Category=Unit</c> must find every fast test and nothing slow: each test class says which
/// kind it is, once: Unit (no Kestrel, silo, socket or process), EndToEnd (an in-process gateway or silo), Process
/// (real product processes or install scripts), Browser (Playwright) or Chart (the Helm chart checks).
/// </summary>
[Trait("Category", "Unit")]
public sealed class TestCategoryTests
{
    private static readonly string[] Categories = ["Unit", "EndToEnd", "Process", "Browser", "Chart"];

    [Fact]
    public void EveryTestClass_HasExactlyOneKnownCategory()
    {
        var testClasses = typeof(TestCategoryTests).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()))
            .ToList();

        var wrong = testClasses
            .Select(t => (Type: t, Categories: CategoriesOf(t)))
            .Where(c => c.Categories.Length != 1 || !Categories.Contains(c.Categories[0]))
            .Select(c => $"{c.Type.FullName}: [{string.Join(", ", c.Categories)}]")
            .ToList();

        Assert.True(testClasses.Count > 50, $"only {testClasses.Count} test classes found");
        Assert.True(wrong.Count == 0, $"test classes without exactly one Category trait of {string.Join('|', Categories)}:\n{string.Join('\n', wrong)}");
    }

    /// <summary>xunit 2 keeps a trait's name and value only as the attribute's constructor arguments.</summary>
    private static string[] CategoriesOf(Type type) =>
        [.. type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Category")
            .Select(a => (string)a.ConstructorArguments[1].Value!)];
}
