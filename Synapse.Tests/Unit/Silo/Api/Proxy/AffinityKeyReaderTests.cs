using System.Text;
using Microsoft.AspNetCore.Http;
using Synapse.Silo.Api.Proxy;

namespace Synapse.Tests.Unit.Silo.Api.Proxy;

/// <summary>Turns of one conversation get one affinity key; other conversations, other keys.</summary>
[Trait("Category", "Unit")]
public sealed class AffinityKeyReaderTests
{
    private const string Chat = "/v1/chat/completions";

    private static ulong Key(string body, string path = Chat, string? session = null)
    {
        var headers = new HeaderDictionary();
        if (session is not null)
        {
            headers[AffinityKeyReader.SessionHeader] = session;
        }

        return AffinityKeyReader.Read(path, headers, Encoding.UTF8.GetBytes(body));
    }

    private static string Conversation(string system, string firstQuestion, int turns, string? user = null)
    {
        var messages = new StringBuilder($$"""[{"role":"system","content":"{{system}}"},{"role":"user","content":"{{firstQuestion}}"}""");
        for (var i = 1; i < turns; i++)
        {
            messages.Append($$""",{"role":"assistant","content":"answer {{i}}"},{"role":"user","content":"follow-up {{i}}"}""");
        }

        var userField = user is null ? string.Empty : $$""","user":"{{user}}" """;
        return $$"""{"model":"m","messages":{{messages}}]{{userField}}}""";
    }

    [Fact]
    public void LaterTurns_OfOneConversation_HaveTheFirstTurnsKey()
    {
        var first = Key(Conversation("You are terse.", "What is Orleans?", 1));

        Assert.NotEqual(0UL, first);
        Assert.Equal(first, Key(Conversation("You are terse.", "What is Orleans?", 2)));
        Assert.Equal(first, Key(Conversation("You are terse.", "What is Orleans?", 9)));
    }

    [Fact]
    public void AnotherFirstQuestion_OrAnotherSystemPrompt_IsAnotherConversation()
    {
        var key = Key(Conversation("You are terse.", "What is Orleans?", 3));

        Assert.NotEqual(key, Key(Conversation("You are terse.", "What is YARP?", 3)));
        Assert.NotEqual(key, Key(Conversation("You are verbose.", "What is Orleans?", 3)));
    }

    [Fact]
    public void UserField_WinsOverSessionHeader_WhichWinsOverThePrompt()
    {
        var byUser = Key(Conversation("s", "q1", 1, user: "alice"));
        Assert.Equal(byUser, Key(Conversation("other", "q2", 4, user: "alice"), session: "s-1"));

        var bySession = Key(Conversation("s", "q1", 1), session: "s-1");
        Assert.Equal(bySession, Key(Conversation("other", "q2", 4), session: "s-1"));
        Assert.NotEqual(bySession, Key(Conversation("s", "q1", 1), session: "s-2"));
        Assert.NotEqual(byUser, bySession);
    }

    [Fact]
    public void OnlyTheFirstKibibyte_Counts()
    {
        var longSystem = new string('x', 2000);

        Assert.Equal(Key(Conversation(longSystem, "q1", 1)), Key(Conversation(longSystem, "q2", 1)));
    }

    [Fact]
    public void Completions_AreKeyedByTheirPrompt()
    {
        var key = Key("""{"model":"m","prompt":"Once upon a time"}""", "/v1/completions");

        Assert.NotEqual(0UL, key);
        Assert.Equal(key, Key("""{"prompt":"Once upon a time","model":"m","max_tokens":5}""", "/v1/completions"));
        Assert.NotEqual(key, Key("""{"model":"m","prompt":"Twice upon a time"}""", "/v1/completions"));
    }

    [Theory]
    [InlineData(Chat, """{"model":"m"}""")]
    [InlineData(Chat, """{"model":"m","messages":"#"}""")]
    [InlineData(Chat, """{"model":"m","messages":[]}""")]
    [InlineData(Chat, """not json at all""")]
    [InlineData("/v1/embeddings", """{"model":"m","input":"hello","user":"alice"}""")]
    public void NothingToGoBy_IsNoKey(string path, string body)
    {
        Assert.Equal(0UL, Key(body, path));
    }

    [Fact]
    public void TruncatedBody_StillGetsTheSessionKey()
    {
        Assert.Equal(Key("""{"model":"m"}""", session: "abc"), Key("""{"model":"m","messages":[{"ro""", session: "abc"));
    }
}
