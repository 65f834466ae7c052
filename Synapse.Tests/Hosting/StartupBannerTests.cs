using Synapse.Silo.Hosting;

namespace Synapse.Tests.Hosting;

/// <summary>What the start-up lines say about auth, cluster and exposure.</summary>
[Trait("Category", "Unit")]
public sealed class StartupBannerTests
{
    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("*", false)]
    [InlineData("::", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("gateway.example.com", false)]
    public void IsLoopback_OnlyAddressesThisMachineAloneReaches(string host, bool loopback) =>
        Assert.Equal(loopback, StartupBanner.IsLoopback(host));

    [Fact]
    public void ApiAuth_NoKey_IsOpen_OneKey_IsNot()
    {
        var open = StartupBanner.ApiAuth(new GatewayOptions());
        var keyed = StartupBanner.ApiAuth(new GatewayOptions { ApiAuthKey = "k" });

        Assert.True(open.Open);
        Assert.Contains("open", open.Description, StringComparison.Ordinal);
        Assert.False(keyed.Open);
        Assert.DoesNotContain("k\"", keyed.Description, StringComparison.Ordinal);
        Assert.Contains("API key", keyed.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeCluster_NamesTheMembershipAndTheSiloCount()
    {
        Assert.Equal(
            "a single silo, membership in memory (localhost clustering)",
            StartupBanner.DescribeCluster(new ClusterOptions(), "synapse", 1));
        Assert.Equal(
            "Redis membership, cluster 'prod', 3 silos active",
            StartupBanner.DescribeCluster(new ClusterOptions { Redis = "redis:6379,password=secret" }, "prod", 3));
        Assert.DoesNotContain("secret", StartupBanner.DescribeCluster(new ClusterOptions { Redis = "redis:6379,password=secret" }, "prod", 1), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:11111", StartupBanner.DescribeCluster(new ClusterOptions { PrimarySilo = "127.0.0.1:11111" }, "dev", 2), StringComparison.Ordinal);
    }
}
