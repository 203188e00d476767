namespace MaskLab.Data.Layout;

/// <summary>One person of the competition layout, parsed from a folder name <c>id_gender_race_age</c>.</summary>
public sealed record Person(string Id, Gender Gender, string Race, int Age, string Folder);

/// <summary>
/// One labelled photo. <see cref="Label"/> is the class under the scoring definition (age cuts 30 / 60 for task
/// data). <see cref="Group"/> is what a split keeps together: the person for task data, the file otherwise.
/// </summary>
public sealed record Sample(string Path, int Label, string Group, Person? Person = null, MaskState? Mask = null)
{
    /// <summary>The label to train on: task samples are relabelled under <paramref name="cuts"/>.</summary>
    public int TrainingLabel(AgeCuts cuts) =>
        Person is { } p && Mask is { } m ? TaskClasses.Encode(m, p.Gender, cuts.Band(p.Age)) : Label;

    /// <summary>What a split stratifies on: gender x age band for a person, the class otherwise.</summary>
    public int Stratum => Person is { } p ? (int)p.Gender * 3 + (int)AgeCuts.Scoring.Band(p.Age) : Label;
}

/// <summary>A labelled set of photos and the names of its classes.</summary>
public sealed record LabeledSet(IReadOnlyList<Sample> Samples, IReadOnlyList<string> ClassNames, bool IsTaskClasses, string Root)
{
    public int ClassCount => ClassNames.Count;

    /// <summary>What the reader found odd but could read past (train.csv contradicting the folder names), one line each.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>An unlabelled photo to predict, keyed by the id the submission uses.</summary>
public sealed record EvalImage(string ImageId, string Path);
