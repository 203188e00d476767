using System.Text.Json.Nodes;

namespace MaskLab.Evaluation;

/// <summary>
/// Scores of one set of predictions against the truth. <see cref="Confusion"/> rows are the true class, columns
/// the predicted one. <see cref="MaskF1"/>, <see cref="GenderF1"/> and <see cref="AgeF1"/> are set only when the
/// labels are the 18 task classes. Built by <see cref="Metrics.Evaluate"/>.
/// </summary>
public sealed record EvaluationReport(
    double MacroF1,
    double Accuracy,
    IReadOnlyList<ClassScore> PerClass,
    long[,] Confusion,
    IReadOnlyList<string> ClassNames,
    double? MaskF1,
    double? GenderF1,
    double? AgeF1)
{
    public int ClassCount => ClassNames.Count;

    public long Samples => PerClass.Sum(s => s.Support);

    /// <summary>Classes in the truth or the predictions: those the macro mean counts.</summary>
    public int PresentClasses => PerClass.Count(s => s.Present);

    public bool HasAttributes => MaskF1.HasValue;

    /// <summary>
    /// The <c>--json</c> form: <c>macro_f1</c>, <c>accuracy</c>, <c>mask_f1</c> / <c>gender_f1</c> / <c>age_f1</c>
    /// (task classes only), <c>samples</c>, <c>classes</c>, <c>per_class</c> and <c>confusion</c>. A new object on
    /// each call, so callers may add their own keys.
    /// </summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["macro_f1"] = MacroF1,
            ["accuracy"] = Accuracy,
        };
        if (HasAttributes)
        {
            o["mask_f1"] = MaskF1;
            o["gender_f1"] = GenderF1;
            o["age_f1"] = AgeF1;
        }
        o["samples"] = Samples;
        o["classes"] = ClassCount;
        var perClass = new JsonArray();
        foreach (var s in PerClass)
        {
            perClass.Add(new JsonObject
            {
                ["class"] = s.Class,
                ["name"] = ClassNames[s.Class],
                ["precision"] = s.Precision,
                ["recall"] = s.Recall,
                ["f1"] = s.F1,
                ["support"] = s.Support,
                ["predicted"] = s.Predicted,
            });
        }
        o["per_class"] = perClass;
        var rows = new JsonArray();
        for (var t = 0; t < ClassCount; t++)
        {
            var row = new JsonArray();
            for (var p = 0; p < ClassCount; p++) row.Add(Confusion[t, p]);
            rows.Add(row);
        }
        o["confusion"] = rows;
        return o;
    }
}
