namespace MaskLab.Data.Layout;

public enum MaskState { Wear = 0, Incorrect = 1, NotWear = 2 }

public enum Gender { Male = 0, Female = 1 }

public enum AgeBand { Under30 = 0, From30To59 = 1, Over60 = 2 }

/// <summary>
/// Age cut points that turn an age into a band. Scoring always uses 30 / 60; training labels may use others
/// (moving the upper cut to 58 was the largest single gain several top teams reported).
/// </summary>
public readonly record struct AgeCuts(int Lower, int Upper)
{
    public static readonly AgeCuts Scoring = new(30, 60);

    public AgeBand Band(int age) => age < Lower ? AgeBand.Under30 : age < Upper ? AgeBand.From30To59 : AgeBand.Over60;

    /// <summary>Parses "30,58". Throws <see cref="FormatException"/> with the offending text.</summary>
    public static AgeCuts Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], out var lower) || !int.TryParse(parts[1], out var upper))
            throw new FormatException($"age_cuts '{text}' is not two whole numbers like 30,60");
        if (lower <= 0 || upper <= lower)
            throw new FormatException($"age_cuts '{text}' must satisfy 0 < lower < upper");
        return new AgeCuts(lower, upper);
    }

    public override string ToString() => $"{Lower},{Upper}";
}

/// <summary>The 18 task classes: class = mask * 6 + gender * 3 + age band.</summary>
public static class TaskClasses
{
    public const int Count = 18;

    public static int Encode(MaskState mask, Gender gender, AgeBand age) => (int)mask * 6 + (int)gender * 3 + (int)age;

    public static (MaskState Mask, Gender Gender, AgeBand Age) Decode(int cls)
    {
        if ((uint)cls >= Count) throw new ArgumentOutOfRangeException(nameof(cls), cls, "task class must be 0..17");
        return ((MaskState)(cls / 6), (Gender)(cls / 3 % 2), (AgeBand)(cls % 3));
    }

    public static MaskState MaskOf(int cls) => (MaskState)(cls / 6);
    public static Gender GenderOf(int cls) => (Gender)(cls / 3 % 2);
    public static AgeBand AgeOf(int cls) => (AgeBand)(cls % 3);

    public static string MaskWord(MaskState m) => m switch
    {
        MaskState.Wear => "mask",
        MaskState.Incorrect => "incorrect",
        _ => "no mask",
    };

    public static string GenderWord(Gender g) => g == Gender.Male ? "male" : "female";

    public static string AgeWord(AgeBand a) => a switch
    {
        AgeBand.Under30 => "<30",
        AgeBand.From30To59 => "30-59",
        _ => "60+",
    };

    /// <summary>Human name such as "mask / female / 30-59".</summary>
    public static string Name(int cls)
    {
        var (m, g, a) = Decode(cls);
        return $"{MaskWord(m)} / {GenderWord(g)} / {AgeWord(a)}";
    }

    public static IReadOnlyList<string> Names { get; } = Enumerable.Range(0, Count).Select(Name).ToArray();

    /// <summary>mask1..mask5 are worn, incorrect_mask is worn wrongly, normal is none; null for anything else.</summary>
    public static MaskState? MaskFromPhotoName(string fileNameWithoutExtension) => fileNameWithoutExtension switch
    {
        "mask1" or "mask2" or "mask3" or "mask4" or "mask5" => MaskState.Wear,
        "incorrect_mask" => MaskState.Incorrect,
        "normal" => MaskState.NotWear,
        _ => null,
    };
}
