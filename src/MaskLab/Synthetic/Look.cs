using MaskLab.Data.Layout;
using SkiaSharp;

namespace MaskLab.Synthetic;

internal enum BackgroundStyle { Plain, TwoTone, Door, Window, Vignette }
internal enum ClothesStyle { Crew, VNeck, Collar, Jacket, Hoodie }
internal enum HairStyle { Buzz, Short, Swept, Medium, Pixie, Tied, Bob, Shoulder, Long, Perm }
internal enum Fringe { Plain, Bangs, SidePart, CenterPart }
internal enum BeardStyle { None, Stubble, Mustache, Goatee, Full }
internal enum MaskPrint { Plain, Pleated, Kf94, Dots, Stripes, Checks, Flowers }
internal enum MaskPlacement { Worn, UnderNose, OnChin, None }

internal readonly record struct MaskDesign(MaskPrint Print, SKColor Base, SKColor Accent, SKColor Loop, float Spacing);

/// <summary>
/// Everything fixed about one person across their seven photos, in the 384 x 512 design frame. The true gender
/// and age drive the cues; every cue has spread so that the attributes overlap as real faces do: hair length
/// and jaw separate most women from most men but not all, and age shows through greying, thinning, wrinkles,
/// eye bags and sagging that all grow smoothly with age (a 57- and a 60-year-old look nearly alike).
/// </summary>
internal sealed class Look
{
    // Scene
    public BackgroundStyle Background;
    public SKColor Bg1, Bg2, Bg3;
    public float BgSplit, BgFeatureX;
    public SKRect Prop; public SKColor PropColor; public bool HasProp;
    public ClothesStyle Clothes;
    public SKColor Cloth, Cloth2;
    public float ShoulderHalf, NeckHalf;
    public float BaseDx, BaseDy, BaseScale;
    public float Vignette;

    // Head; the continuous masculinity score that shapes it, the brows and the lips
    public float Masculinity;
    public float Rx, Ry, Jaw, Chin;
    public SKColor Skin;

    // Hair
    public HairStyle Hair;
    public Fringe Fringe;
    public bool PartLeft;
    public SKColor HairColor;
    public float HairVolume, HairLength, Density, Recession, Grey;

    // Features
    public float EyeSpacing, EyeW, EyeH;
    public SKColor Iris;
    public float BrowThick, BrowArch, BrowY;
    public SKColor BrowColor;
    public float NoseW, NoseLen;
    public float MouthW, LipTop, LipBottom;
    public SKColor Lip;
    public bool Eyeliner;
    public float Blush;

    // Age, 0 smooth young skin .. 1 deeply lined
    public float Wrinkle;

    // Extras
    public BeardStyle Beard;
    public SKColor BeardColor;
    public float BeardAlpha;
    public bool Earrings;
    public SKColor EarringColor;
    public int Glasses;
    public SKColor GlassesColor;

    public readonly MaskDesign[] Masks = new MaskDesign[5];
    public int IncorrectMask;
    public float ChinMaskShare;

    static SKColor C(int r, int g, int b) => new((byte)r, (byte)g, (byte)b);

    static readonly SKColor[] Walls =
    [
        C(238, 236, 230), C(225, 225, 225), C(210, 205, 195), C(200, 215, 225), C(214, 226, 208), C(235, 220, 215),
        C(180, 180, 185), C(150, 140, 130), C(120, 130, 140), C(245, 245, 245), C(95, 90, 85), C(200, 185, 160),
        C(170, 190, 200), C(230, 215, 185),
    ];
    static readonly SKColor[] Woods = [C(140, 100, 70), C(170, 130, 90), C(110, 80, 60), C(220, 220, 215), C(90, 95, 105)];
    static readonly SKColor[] Clothes0 =
    [
        C(30, 30, 35), C(40, 50, 80), C(235, 235, 235), C(120, 120, 125), C(200, 185, 160), C(90, 100, 60),
        C(40, 80, 60), C(110, 30, 40), C(150, 190, 220), C(100, 70, 50), C(60, 60, 90), C(200, 60, 50),
    ];
    static readonly SKColor[] ClothesFemale = [C(230, 170, 180), C(180, 160, 210), C(240, 140, 120), C(245, 235, 215), C(170, 60, 90)];
    static readonly SKColor[] ClothesMale = [C(70, 90, 110), C(160, 150, 120), C(50, 55, 60)];
    static readonly SKColor[] NaturalHair = [C(22, 20, 20), C(30, 25, 22), C(45, 34, 28), C(60, 44, 34)];
    static readonly SKColor[] DyedHair = [C(100, 70, 45), C(130, 92, 60), C(165, 130, 90), C(110, 55, 40), C(80, 60, 50)];
    static readonly SKColor[] Lipsticks = [C(200, 40, 60), C(220, 95, 115), C(175, 55, 65), C(210, 110, 100)];

    static float Smooth(float lo, float hi, float x)
    {
        var t = Math.Clamp((x - lo) / (hi - lo), 0f, 1f);
        return t * t * (3 - 2 * t);
    }

    public static SKColor Mix(SKColor a, SKColor b, float t)
    {
        t = Math.Clamp(t, 0f, 1f);
        return new SKColor(
            (byte)MathF.Round(a.Red + (b.Red - a.Red) * t),
            (byte)MathF.Round(a.Green + (b.Green - a.Green) * t),
            (byte)MathF.Round(a.Blue + (b.Blue - a.Blue) * t),
            (byte)MathF.Round(a.Alpha + (b.Alpha - a.Alpha) * t));
    }

    public static SKColor Shade(SKColor c, float f) => new(
        (byte)Math.Clamp(MathF.Round(c.Red * f), 0, 255),
        (byte)Math.Clamp(MathF.Round(c.Green * f), 0, 255),
        (byte)Math.Clamp(MathF.Round(c.Blue * f), 0, 255),
        c.Alpha);

    static SKColor Jitter(SynthRandom r, SKColor c, int amount) => new(
        (byte)Math.Clamp(c.Red + r.Between(-amount, amount), 0, 255),
        (byte)Math.Clamp(c.Green + r.Between(-amount, amount), 0, 255),
        (byte)Math.Clamp(c.Blue + r.Between(-amount, amount), 0, 255));

    public static Look Create(SynthRandom r, Gender gender, int age)
    {
        var male = gender == Gender.Male;
        var l = new Look();
        float a = age;

        // A continuous masculinity score: two overlapping bumps, so a few faces of each gender sit in the middle.
        var m = male ? r.Gauss(0.8f, 0.45f) : r.Gauss(-0.8f, 0.45f);
        var m01 = Math.Clamp((m + 1.6f) / 3.2f, 0f, 1f);
        l.Masculinity = m;

        // Scene
        l.Background = (BackgroundStyle)r.Weighted([0.3, 0.2, 0.15, 0.15, 0.2]);
        l.Bg1 = Jitter(r, r.Pick(Walls), 10);
        l.Bg2 = Mix(l.Bg1, r.Chance(0.5) ? r.Pick(Walls) : Shade(l.Bg1, 0.7f), r.Range(0.3f, 0.8f));
        l.Bg3 = Jitter(r, r.Pick(Woods), 12);
        l.BgSplit = r.Range(300, 430);
        l.BgFeatureX = r.Chance(0.5) ? r.Range(-40, 40) : r.Range(260, 330);
        l.Vignette = l.Background == BackgroundStyle.Vignette ? r.Range(0.6f, 1f) : r.Range(0f, 0.4f);
        l.HasProp = r.Chance(0.35);
        var px = r.Chance(0.5) ? r.Range(-60, 40) : r.Range(260, 360);
        l.Prop = SKRect.Create(px, r.Range(330, 420), r.Range(70, 140), 200);
        l.PropColor = Jitter(r, r.Pick(Woods), 20);

        l.Clothes = (ClothesStyle)r.Weighted([0.3, 0.15, 0.2, 0.2, 0.15]);
        var palette = Clothes0.Concat(male ? ClothesMale : ClothesFemale).ToArray();
        l.Cloth = Jitter(r, r.Pick(palette), 12);
        l.Cloth2 = Jitter(r, r.Pick(palette), 12);
        l.BaseDx = r.Gauss(0, 10);
        l.BaseDy = r.Gauss(0, 10);
        l.BaseScale = r.Gauss(1.08f, 0.06f);

        // Head: men wider with a squarer jaw; the jaw also slackens a little with age.
        l.Rx = 70 + 5 * m + r.Gauss(0, 2.5f);
        l.Ry = 95 + 2 * m + r.Gauss(0, 3f);
        l.Jaw = 0.70f + 0.07f * m + r.Gauss(0, 0.03f);
        l.Chin = 0.26f + 0.05f * m + r.Gauss(0, 0.04f);
        l.ShoulderHalf = 150 + 14 * m + r.Gauss(0, 8);
        l.NeckHalf = l.Rx * (0.52f + 0.05f * m);

        var tone = (float)r.NextDouble();
        l.Skin = Jitter(r, Mix(C(246, 216, 192), C(192, 146, 112), tone * tone), 6);

        // Age cues, each with its own person-level offset so that the same age varies between people.
        l.Wrinkle = Smooth(24, 68, a + r.Gauss(0, 4));
        l.Grey = Smooth(38, 66, a + r.Gauss(0, 5));
        var baldProne = male ? Math.Clamp(r.Gauss(0.55f, 0.35f), 0f, 1f) : 0f;
        l.Recession = baldProne * Smooth(28, 70, a + r.Gauss(0, 5));
        l.Density = 1f - (male ? 0.45f * l.Recession : 0.12f * Smooth(45, 70, a));
        // Many older people dye their hair, which hides greying: age must then come from the face.
        if (a >= 40 && r.Chance(male ? 0.15 : 0.4)) l.Grey *= 0.15f;

        // Hair style: women's long hair moves toward short perms with age; some women wear it short or tied,
        // some men wear it long.
        var older = Smooth(35, 60, a);
        if (male)
        {
            l.Hair = (HairStyle)new[] { 0, 1, 2, 3, 8 }[r.Weighted([0.15, 0.5, 0.2, 0.1, 0.05 * (1 - older)])];
        }
        else
        {
            var pick = r.Weighted([
                0.45 * (1 - older) + 0.10 * older, // Long
                0.20,                               // Shoulder
                0.12 * (1 - older) + 0.04 * older, // Tied
                0.13 + 0.07 * older,                // Bob
                0.10 + 0.05 * older,                // Pixie
                0.35 * older,                       // Perm
            ]);
            l.Hair = new[] { HairStyle.Long, HairStyle.Shoulder, HairStyle.Tied, HairStyle.Bob, HairStyle.Pixie, HairStyle.Perm }[pick];
        }
        l.Fringe = male
            ? (Fringe)r.Weighted([0.4, 0.3, 0.3, 0.0])
            : l.Hair == HairStyle.Perm ? Fringe.Plain : (Fringe)r.Weighted([0.1, 0.35 * (1 - 0.6 * older), 0.3, 0.35]);
        l.PartLeft = r.Chance(0.5);
        l.HairVolume = l.Hair switch
        {
            HairStyle.Buzz => 3,
            HairStyle.Short or HairStyle.Swept => r.Range(7, 13),
            HairStyle.Tied => r.Range(5, 9),
            HairStyle.Perm => r.Range(20, 28),
            _ => r.Range(10, 18),
        } * (0.6f + 0.4f * l.Density);
        l.HairLength = l.Hair switch
        {
            HairStyle.Long => l.Ry + r.Range(120, 190),
            HairStyle.Shoulder => l.Ry + r.Range(45, 75),
            HairStyle.Bob => l.Ry * r.Range(0.5f, 0.85f),
            HairStyle.Medium => l.Ry * r.Range(0.3f, 0.6f),
            HairStyle.Perm => l.Ry * r.Range(0.2f, 0.45f),
            _ => 0,
        };
        var natural = r.Pick(NaturalHair);
        var youngDye = r.Chance((male ? 0.15 : 0.35) * (1 - older));
        var baseHair = youngDye || (a >= 40 && l.Grey < 0.2f && r.Chance(0.5)) ? r.Pick(DyedHair) : natural;
        var greyLevel = r.Between(185, 220);
        l.HairColor = Mix(baseHair, C(greyLevel, greyLevel, greyLevel + 3), l.Grey);
        l.BrowColor = Mix(Shade(natural, 0.9f), C(150, 145, 140), l.Grey * 0.6f);

        // Features
        l.EyeSpacing = l.Rx * r.Gauss(0.42f, 0.02f);
        l.EyeW = r.Gauss(14.5f, 1.2f) - 1.0f * l.Wrinkle;
        l.EyeH = r.Gauss(6.3f, 0.7f) - 0.8f * l.Wrinkle;
        l.Iris = Jitter(r, C(55, 38, 30), 10);
        l.BrowThick = 5.5f + 1.8f * m + r.Gauss(0, 0.7f) - 1.0f * l.Wrinkle;
        l.BrowArch = 4.5f - 2.5f * m + r.Gauss(0, 1.2f);
        l.BrowY = -0.23f * l.Ry + r.Gauss(0, 2) - 2 * m;
        l.NoseW = 13 + 1.5f * m + r.Gauss(0, 1.2f) + 1.5f * l.Wrinkle;
        l.NoseLen = r.Gauss(0.37f, 0.02f) * l.Ry;
        l.MouthW = 21 + 2 * m + r.Gauss(0, 1.8f);
        l.LipTop = (4.0f + r.Gauss(0, 0.6f) - 0.8f * m) * (1 - 0.35f * l.Wrinkle);
        l.LipBottom = (5.5f + r.Gauss(0, 0.8f) - 0.8f * m) * (1 - 0.35f * l.Wrinkle);
        var lipNatural = Mix(l.Skin, C(185, 85, 85), r.Range(0.35f, 0.55f));
        l.Lip = !male && r.Chance(0.5) ? Mix(lipNatural, r.Pick(Lipsticks), r.Range(0.6f, 0.95f)) : lipNatural;
        l.Eyeliner = !male && r.Chance(0.45);
        l.Blush = !male ? r.Range(0f, 0.25f) * (1 - 0.6f * older) : 0;

        l.Beard = male
            ? (BeardStyle)r.Weighted([0.62, 0.12, 0.08, 0.08, 0.10 * (0.5 + older)])
            : BeardStyle.None;
        l.BeardColor = Mix(natural, C(200, 200, 200), Smooth(38, 64, a + r.Gauss(0, 5)));
        l.BeardAlpha = r.Range(0.75f, 0.95f);
        l.Earrings = !male && r.Chance(0.3) || male && r.Chance(0.03);
        l.EarringColor = r.Chance(0.5) ? C(215, 175, 70) : C(205, 205, 215);
        l.Glasses = r.Chance(0.12 + 0.3 * Smooth(35, 65, a)) ? r.Between(1, 2) : 0;
        l.GlassesColor = r.Pick(new[] { C(25, 25, 25), C(80, 55, 40), C(185, 160, 90), C(160, 160, 170) });

        for (var i = 0; i < l.Masks.Length; i++)
            l.Masks[i] = i > 0 && r.Chance(0.3) ? l.Masks[r.Next(i)] : DrawMask(r);
        l.IncorrectMask = r.Next(5);
        l.ChinMaskShare = r.Range(0.1f, 0.5f);
        return l;
    }

    static readonly SKColor[] Pastels = [C(235, 200, 200), C(220, 200, 170), C(200, 220, 235), C(225, 225, 200), C(210, 200, 225)];
    static readonly SKColor[] Darks = [C(40, 50, 80), C(60, 60, 65), C(100, 40, 50), C(40, 70, 60), C(140, 140, 145)];
    static readonly SKColor[] Accents = [C(220, 60, 70), C(250, 250, 250), C(40, 40, 40), C(60, 110, 200), C(240, 200, 60), C(90, 170, 110)];

    static MaskDesign DrawMask(SynthRandom r)
    {
        switch (r.Weighted([0.22, 0.2, 0.18, 0.12, 0.18, 0.1]))
        {
            case 0:
                return new(MaskPrint.Pleated, Jitter(r, C(240, 242, 245), 5), C(200, 205, 215), C(245, 245, 245), 0);
            case 1:
                var blue = Jitter(r, C(140, 185, 222), 10);
                return new(MaskPrint.Pleated, blue, Shade(blue, 0.8f), C(240, 240, 240), 0);
            case 2:
                var black = Jitter(r, C(28, 28, 32), 5);
                return new(r.Chance(0.5) ? MaskPrint.Plain : MaskPrint.Kf94, black, C(60, 60, 66), black, 0);
            case 3:
                var white = Jitter(r, C(236, 236, 238), 4);
                return new(MaskPrint.Kf94, white, C(200, 200, 205), white, 0);
            case 4:
                var baseColor = Jitter(r, r.Chance(0.5) ? r.Pick(Pastels) : r.Pick(Darks), 8);
                var accent = r.Pick(Accents);
                var print = (MaskPrint)r.Between((int)MaskPrint.Dots, (int)MaskPrint.Flowers);
                return new(print, baseColor, accent, Shade(baseColor, 0.9f), r.Range(14, 22));
            default:
                var plain = Jitter(r, r.Chance(0.5) ? r.Pick(Pastels) : r.Pick(Darks), 8);
                return new(MaskPrint.Plain, plain, Shade(plain, 0.8f), plain, 0);
        }
    }
}

/// <summary>What changes between one person's photos: the mask, pose, lighting and expression.</summary>
internal readonly record struct Shot(
    MaskPlacement Placement,
    MaskDesign Mask,
    float Dx,
    float Dy,
    float Scale,
    float Rotation,
    float Yaw,
    float Light,
    float Exposure,
    SKColor Cast,
    float CastAlpha,
    float Smile)
{
    public static Shot Create(SynthRandom r, Look look, MaskState shown, int photo)
    {
        var placement = shown switch
        {
            MaskState.Wear => MaskPlacement.Worn,
            MaskState.Incorrect => r.Chance(look.ChinMaskShare) ? MaskPlacement.OnChin : MaskPlacement.UnderNose,
            _ => MaskPlacement.None,
        };
        var mask = photo < 5 ? look.Masks[photo] : look.Masks[look.IncorrectMask];
        var warm = r.Chance(0.5);
        return new Shot(
            placement, mask,
            r.Gauss(0, 7), r.Gauss(0, 6), r.Gauss(1, 0.035f), r.Gauss(0, 3.5f), r.Gauss(0, 0.35f),
            r.Gauss(0, 0.45f), r.Gauss(0, 0.3f),
            warm ? new SKColor(255, 200, 150) : new SKColor(150, 185, 255), r.Range(0, 30),
            shown == MaskState.NotWear ? r.Range(0, 1) : 0);
    }
}
