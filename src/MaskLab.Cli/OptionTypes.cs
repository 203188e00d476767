using System.ComponentModel;
using System.Globalization;
using MaskLab.Evaluation;
using MaskLab.Export;
using MaskLab.Runs;
using MaskLab.Platform;

namespace MaskLab.Cli;

/// <summary>
/// Reads a typed option's text once, while the command line is parsed: a verb receives the library's type, and a bad
/// value is a one-line <see cref="MaskLabInputException"/> naming the option (Program.cs unwraps it from Spectre's).
/// </summary>
public abstract class OptionConverter<T> : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) => Parse((string)value);

    protected abstract T Parse(string text);
}

/// <summary><c>--device auto|cpu|cuda|cuda:N</c> as a <see cref="DeviceChoice"/>.</summary>
public sealed class DeviceOption : OptionConverter<DeviceChoice>
{
    public const string Template = "--device <DEVICE>";
    public const string Help = "auto (a GPU when a CUDA libtorch sees one, else the CPU), cpu, cuda or cuda:N";

    protected override DeviceChoice Parse(string text) => DeviceChoice.Parse(text);
}

/// <summary><c>--checkpoint best|last</c> as a <see cref="CheckpointChoice"/>.</summary>
public sealed class CheckpointOption : OptionConverter<CheckpointChoice>
{
    protected override CheckpointChoice Parse(string text) => text switch
    {
        "best" => CheckpointChoice.Best,
        "last" => CheckpointChoice.Last,
        _ => throw new MaskLabInputException($"--checkpoint '{text}' is not best or last"),
    };
}

/// <summary>
/// An option whose value is one of a closed set, read into the enum <typeparamref name="T"/> with the config's
/// spellings (lower-case names): a wrong value is refused while the command line is parsed, naming the choices.
/// </summary>
public abstract class EnumOption<T> : OptionConverter<T> where T : struct, Enum
{
    /// <summary>The option as the user types it, for the message (<c>--vote</c>).</summary>
    protected abstract string Option { get; }

    protected override T Parse(string text) => (T)ConfigValues.Parse(text, typeof(T), Option)!;
}

/// <summary><c>--method attribute|confident</c>.</summary>
public sealed class AuditMethodOption : EnumOption<AuditMethod> { protected override string Option => "--method"; }

/// <summary><c>--label-noise-kind competition|uniform</c>.</summary>
public sealed class LabelNoiseKindOption : EnumOption<MaskLab.Synthetic.LabelNoiseKind> { protected override string Option => "--label-noise-kind"; }

/// <summary><c>--vote soft|hard</c>.</summary>
public sealed class VoteOption : EnumOption<Vote> { protected override string Option => "--vote"; }

/// <summary><c>--precision fp32|bf16|fp16|auto</c>.</summary>
public sealed class PrecisionOption : EnumOption<Precision> { protected override string Option => "--precision"; }

/// <summary><c>--executor local|slurm</c>.</summary>
public sealed class ExecutorOption : EnumOption<ExecutorKind> { protected override string Option => "--executor"; }

/// <summary><c>--sort f1|name|speed</c>.</summary>
public sealed class CompareOrderOption : EnumOption<CompareOrder> { protected override string Option => "--sort"; }

/// <summary><c>--head single|multi</c>.</summary>
public sealed class ExportHeadOption : EnumOption<ExportHead> { protected override string Option => "--head"; }

/// <summary><c>--normalization task|imagenet</c>.</summary>
public sealed class NormalizationOption : EnumOption<NormalizationName> { protected override string Option => "--normalization"; }

/// <summary>Where a sweep's runs or a k-fold run's folds train.</summary>
public enum ExecutorKind { Local, Slurm }

/// <summary>The order of <c>compare</c>'s rows: best val macro F1 first, by name, or fastest first.</summary>
public enum CompareOrder { F1, Name, Speed }

/// <summary>The mean / std an exported model's inputs had in training: the task's per-channel statistics or ImageNet's.</summary>
public enum NormalizationName { Task, ImageNet }
