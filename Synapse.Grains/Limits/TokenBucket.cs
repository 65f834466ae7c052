namespace Synapse.Grains.Limits;

/// <summary>
/// A bucket refilled continuously at <c>perMinute / 60</c> a second and holding at most a short burst (1.5 s of
/// the rate, at least 1): over any minute it admits the limit plus that burst, and never the whole minute at once.
/// It may go negative (tokens are charged after the call), and then admits nothing until it refills.
/// </summary>
public sealed class TokenBucket
{
    private long _perMinute;
    private double _level;
    private long _updatedTicks;

    public TokenBucket(long perMinute, long nowTicks)
    {
        _perMinute = perMinute;
        _level = Capacity;
        _updatedTicks = nowTicks;
    }

    public double Capacity => Math.Max(1, _perMinute / 40.0);

    private double PerSecond => _perMinute / 60.0;

    /// <summary>Follows a changed limit (a reload) without losing what was spent.</summary>
    public void Resize(long perMinute)
    {
        if (perMinute != _perMinute)
        {
            _perMinute = perMinute;
            _level = Math.Min(_level, Capacity);
        }
    }

    public int Take(int want, long nowTicks)
    {
        Refill(nowTicks);
        var granted = (int)Math.Min(want, Math.Floor(_level));
        _level -= Math.Max(0, granted);
        return Math.Max(0, granted);
    }

    public void Put(double amount, long nowTicks)
    {
        Refill(nowTicks);
        _level = Math.Min(Capacity, _level + amount);
    }

    public void Spend(double amount, long nowTicks)
    {
        Refill(nowTicks);
        _level -= amount;
    }

    public LimitWindow Window(long nowTicks)
    {
        Refill(nowTicks);
        var missingForOne = 1 - _level;
        return new LimitWindow(
            _perMinute,
            Math.Max(0, _level),
            missingForOne <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(missingForOne / PerSecond),
            TimeSpan.FromSeconds(Math.Max(0, Capacity - _level) / PerSecond));
    }

    private void Refill(long nowTicks)
    {
        var elapsed = TimeSpan.FromTicks(Math.Max(0, nowTicks - _updatedTicks)).TotalSeconds;
        _updatedTicks = nowTicks;
        _level = Math.Min(Capacity, _level + (elapsed * PerSecond));
    }
}
