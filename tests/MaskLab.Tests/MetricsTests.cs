using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using TorchSharp;

namespace MaskLab.Tests;

public class MetricsTests
{
    const double Tol = 1e-12;

    // Five classes. Class 2 has support but is never predicted, class 3 is predicted but never true,
    // class 4 appears in neither.
    static readonly int[] Truth = [0, 0, 0, 1, 1, 2, 2];
    static readonly int[] Pred = [0, 0, 1, 1, 0, 0, 3];

    [Fact]
    public void Confusion_counts_truth_rows_and_predicted_columns()
    {
        var cm = Metrics.Confusion(Truth, Pred, 5);
        long[,] expected =
        {
            { 2, 1, 0, 0, 0 },
            { 1, 1, 0, 0, 0 },
            { 1, 0, 0, 1, 0 },
            { 0, 0, 0, 0, 0 },
            { 0, 0, 0, 0, 0 },
        };
        Assert.Equal(expected, cm);
    }

    [Fact]
    public void Per_class_scores_follow_the_confusion()
    {
        var s = Metrics.PerClass(Metrics.Confusion(Truth, Pred, 5));
        // class 0: tp 2, predicted 4 (two from class 0, one each from 1 and 2), support 3.
        Assert.Equal(new ClassScore(0, 2.0 / 4, 2.0 / 3, 4.0 / 7, 3, 4), s[0]);
        // class 1: tp 1, predicted 2, support 2.
        Assert.Equal(new ClassScore(1, 0.5, 0.5, 0.5, 2, 2), s[1]);
        // class 2: support 2, never predicted: precision undefined -> 0, F1 0.
        Assert.Equal(new ClassScore(2, 0, 0, 0, 2, 0), s[2]);
        // class 3: predicted once, no support: recall undefined -> 0, F1 0, still counted.
        Assert.Equal(new ClassScore(3, 0, 0, 0, 0, 1), s[3]);
        Assert.True(s[3].Present);
        // class 4: absent everywhere.
        Assert.False(s[4].Present);
    }

    [Fact]
    public void Macro_F1_matches_hand_computation_with_sklearn_rules()
    {
        // F1 = 2tp / (2tp + fp + fn):
        //   class 0: tp 2, fp 2, fn 1 -> 4/7
        //   class 1: tp 1, fp 1, fn 1 -> 2/4 = 1/2
        //   class 2: tp 0, fp 0, fn 2 -> 0   (support, never predicted)
        //   class 3: tp 0, fp 1, fn 0 -> 0   (predicted, no support: in the union of labels, so counted)
        //   class 4: absent from truth and predictions -> left out of the mean
        // macro = (4/7 + 1/2 + 0 + 0) / 4 = (15/14) / 4 = 15/56
        Assert.Equal(15.0 / 56, Metrics.MacroF1(Truth, Pred, 5), Tol);
        // More classes that nobody uses do not change it.
        Assert.Equal(15.0 / 56, Metrics.MacroF1(Truth, Pred, 18), Tol);
    }

    [Fact]
    public void Accuracy_is_share_of_correct()
    {
        // correct: indices 0, 1, 3 -> 3 of 7
        Assert.Equal(3.0 / 7, Metrics.Accuracy(Truth, Pred), Tol);
        Assert.Equal(3.0 / 7, Metrics.Accuracy(Metrics.Confusion(Truth, Pred, 5)), Tol);
    }

    [Fact]
    public void Perfect_predictions_score_one()
    {
        int[] labels = [0, 5, 5, 17, 9, 0, 3];
        var report = Metrics.Evaluate(labels, labels, TaskClasses.Names, taskClasses: true);
        Assert.Equal(1.0, report.MacroF1);
        Assert.Equal(1.0, report.Accuracy);
        Assert.Equal(1.0, report.MaskF1);
        Assert.Equal(1.0, report.GenderF1);
        Assert.Equal(1.0, report.AgeF1);
        Assert.Equal(5, report.PresentClasses);
    }

    // Four task images, one right and one wrong in each attribute:
    //   truth 0  (mask, male, <30)          pred 0  (mask, male, <30)          all right
    //   truth 4  (mask, female, 30-59)      pred 3  (mask, female, <30)        age wrong
    //   truth 7  (incorrect, male, 30-59)   pred 13 (no mask, male, 30-59)     mask wrong
    //   truth 14 (no mask, male, 60+)       pred 17 (no mask, female, 60+)     gender wrong
    static readonly int[] TaskTruth = [0, 4, 7, 14];
    static readonly int[] TaskPred = [0, 3, 13, 17];

    [Fact]
    public void Attribute_F1_matches_hand_computation()
    {
        var (mask, gender, age) = Metrics.AttributeF1(TaskTruth, TaskPred);
        // mask truth [0 0 1 2], pred [0 0 2 2]:
        //   wear 2/(2+0+0)=1, incorrect 0 (never predicted), not wear 2/(2+1+0)=2/3 -> (1 + 0 + 2/3)/3 = 5/9
        Assert.Equal(5.0 / 9, mask, Tol);
        // gender truth [0 1 0 0], pred [0 1 0 1]:
        //   male tp 2 fp 0 fn 1 -> 4/5, female tp 1 fp 1 fn 0 -> 2/3 -> (4/5 + 2/3)/2 = 11/15
        Assert.Equal(11.0 / 15, gender, Tol);
        // age truth [0 1 1 2], pred [0 0 1 2]:
        //   <30 tp 1 fp 1 -> 2/3, 30-59 tp 1 fn 1 -> 2/3, 60+ -> 1 -> (2/3 + 2/3 + 1)/3 = 7/9
        Assert.Equal(7.0 / 9, age, Tol);
    }

    [Fact]
    public void Attribute_confusions_fold_the_task_confusion()
    {
        var cm = Metrics.Confusion(TaskTruth, TaskPred, TaskClasses.Count);
        Assert.Equal(new long[,] { { 2, 0, 0 }, { 0, 0, 1 }, { 0, 0, 1 } }, Metrics.MaskConfusion(cm));
        Assert.Equal(new long[,] { { 2, 1 }, { 0, 1 } }, Metrics.GenderConfusion(cm));
        Assert.Equal(new long[,] { { 1, 0, 0 }, { 1, 1, 0 }, { 0, 0, 1 } }, Metrics.AgeConfusion(cm));
    }

    [Fact]
    public void Evaluate_gathers_the_report()
    {
        var report = Metrics.Evaluate(TaskTruth, TaskPred, TaskClasses.Names, taskClasses: true);
        // union of labels {0, 3, 4, 7, 13, 14, 17}: only class 0 has F1 1 -> 1/7
        Assert.Equal(1.0 / 7, report.MacroF1, Tol);
        Assert.Equal(0.25, report.Accuracy, Tol);
        Assert.Equal(5.0 / 9, report.MaskF1!.Value, Tol);
        Assert.Equal(11.0 / 15, report.GenderF1!.Value, Tol);
        Assert.Equal(7.0 / 9, report.AgeF1!.Value, Tol);
        Assert.Equal(4, report.Samples);
        Assert.Equal(7, report.PresentClasses);
        Assert.Equal(18, report.PerClass.Count);
        Assert.Equal("incorrect / male / 30-59", report.ClassNames[7]);
        Assert.Equal(1, report.Confusion[7, 13]);
    }

    [Fact]
    public void Evaluate_without_task_classes_has_no_attribute_scores()
    {
        var report = Metrics.Evaluate(Truth, Pred, ["a", "b", "c", "d", "e"], taskClasses: false);
        Assert.Equal(15.0 / 56, report.MacroF1, Tol);
        Assert.Null(report.MaskF1);
        Assert.Null(report.GenderF1);
        Assert.Null(report.AgeF1);
        var json = report.ToJsonObject();
        Assert.False(json.ContainsKey("mask_f1"));
        Assert.Equal(15.0 / 56, (double)json["macro_f1"]!, Tol);
    }

    [Fact]
    public void Json_object_holds_the_contract_keys()
    {
        var json = Metrics.Evaluate(TaskTruth, TaskPred, TaskClasses.Names, taskClasses: true).ToJsonObject();
        foreach (var key in new[] { "macro_f1", "accuracy", "mask_f1", "gender_f1", "age_f1", "samples", "per_class", "confusion" })
            Assert.True(json.ContainsKey(key), key);
        Assert.Equal(7.0 / 9, (double)json["age_f1"]!, Tol);
        Assert.Equal(18, json["per_class"]!.AsArray().Count);
        Assert.Equal("mask / male / <30", (string)json["per_class"]![0]!["name"]!);
        Assert.Equal(1L, (long)json["confusion"]![14]![17]!);
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Metrics.Confusion([0, 1], [0], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.Confusion([0, 2], [0, 1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.Confusion([0, 1], [0, -1], 2));
        Assert.Throws<ArgumentException>(() => Metrics.Evaluate([], [], TaskClasses.Names, true));
        Assert.Throws<ArgumentException>(() => Metrics.Evaluate([0], [0], ["a", "b"], taskClasses: true));
        Assert.Throws<ArgumentException>(() => Metrics.MaskConfusion(new long[3, 3]));
    }

    [Fact]
    public void Argmax_takes_the_first_largest_per_row()
    {
        float[,] scores = { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.5f, 0.0f }, { -3f, -2f, -1f } };
        Assert.Equal([1, 0, 2], Metrics.Argmax(scores));
    }

    [Fact]
    public void Argmax_of_a_tensor_matches_the_array_form()
    {
        float[,] scores = { { 0.1f, 0.7f, 0.2f }, { 0.9f, 0.05f, 0.05f }, { -3f, -2f, -1f }, { 0f, 1f, 0.5f } };
        using var t = torch.tensor(new float[] { 0.1f, 0.7f, 0.2f, 0.9f, 0.05f, 0.05f, -3f, -2f, -1f, 0f, 1f, 0.5f }).reshape(4, 3);
        Assert.Equal(Metrics.Argmax(scores), Metrics.Argmax(t));
    }
}
