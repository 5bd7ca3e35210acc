import { describe, expect, it } from 'vitest';
import { detectOutOfScope, detectRuleIntent, isGreeting } from '../../../bot/understand/rule-intent.ts';
import { loadTextPipeline } from '../../../knowledge-base/text-pipeline.ts';
import { loadConfig } from '../../../bot/config.ts';

const { lexicon, normalizer } = loadTextPipeline(loadConfig({}).lexiconDir);
const detect = (q: string) => detectRuleIntent(normalizer.clean(q), lexicon.intents);
const scope = (q: string, hasServiceTerm = false, confidence = 0.1, evidence = 0.1) =>
  detectOutOfScope(normalizer.clean(q), lexicon.intents, { hasServiceTerm, confidence, evidence });

describe('emergencies', () => {
  it.each([
    ['楼下有人拿刀砍人，快来', '110'],
    ['我被人打了，头在流血', '110'],
    ['孩子在商场走丢了找不到', '110'],
    ['我妈联系不上了，已经两天没回家', '110'],
    ['有人要跳楼', '110'],
    ['家里厨房着火了', '119'],
    ['闻到煤气泄漏的味道', '119'],
    ['刚才出车祸了，有人受伤流血', '120'],
    ['老人突然晕倒了', '120'],
    ['对方说是公安局的，让我把钱转到安全账户，我正在转账', '96110'],
    ['刷单返利让我先垫钱，是不是诈骗', '96110'],
    ['我被骗了五万块', '96110'],
    ['刚刚被车撞了，司机肇事逃逸了', '120'],
    ['我的车刚被人撞了，对方直接开跑了，人没事', '122'],
    ['隧道里连环追尾五六辆车，大家都下车了没人受伤', '122'],
    ['路口每天都堵，现在两辆车撞在一起了', '122'],
    ['他手里拿着把西瓜刀在门口转悠', '110'],
    ['我女儿放学三个小时了还没到家电话也打不通', '110'],
    ['楼道里全是黑的呛得喘不过气', '119'],
    ['隔壁屋里烟很大，敲门没人应', '119'],
    ['电梯卡住了我们三个人在里面', '119'],
    ['公园有个老人在抽 口吐白沫', '120'],
    ['网贷说要先交5000解冻费才放款 我刚转了2000', '96110'],
    ['someone is following me', '110'],
    ['my grandma is on the phone with a scammer right now transferring money', '96110'],
    ['有人持刀抢劫', '110'],
  ])('%s → %s first', (q, number) => {
    const r = detect(q);
    expect(r?.intent).toBe('emergency');
    expect(r?.intent === 'emergency' && r.emergency.number).toBe(number);
  });

  it('interrupts even in the middle of an ordinary question', () => {
    expect(detect('我想问下护照怎么办，等等，隔壁好像着火了')?.intent).toBe('emergency');
  });

  it.each([
    '孩子的护照丢了怎么补',
    '身份证被偷了怎么补办',
    '老人的身份证找不到了',
    '轻微刮蹭没人受伤怎么快处快赔',
    '110能发短信报警吗',
    '钱包丢了里面有驾驶证',
    '交通事故认定书在哪领',
    '反诈app怎么下载',
    '车牌掉了一块怎么补',
    '身份证丢了怕被别人冒用，怎么先挂失',
    '怎么判断接到的是不是诈骗电话',
    '上个月被骗了现在能立案吗',
    '去年家里着火户口本烧了，补办要什么',
    '酒驾的罚款在哪交',
    '刚才倒车蹭掉一点漆，两边人都没事，对方说拍照自己处理就行，可以吗',
    // Cooking fumes from a stall are a complaint, not a fire.
    '我要投诉小区门口烧烤摊每天占道经营到凌晨，油烟很大',
    // Parking that goes on for months at a junction is a complaint, not a crash happening now.
    '我要投诉，文华路口有人长期占用消防通道停放三轮车，存在安全隐患',
  ])('does not call an ordinary question an emergency: %s', (q) => {
    expect(detect(q)?.intent).not.toBe('emergency');
  });
});

describe('other rule intents', () => {
  it.each([
    ['转人工', 'handoff'],
    ['我要找人工客服', 'handoff'],
    ['我反映的问题怎么样了', 'progress'],
    ['上周投诉的事情有结果了吗', 'progress'],
    ['我要投诉窗口工作人员态度差', 'case'],
    ['举报有人聚众赌博', 'case'],
    ['楼下噪音扰民，想反映一下', 'case'],
    ['你好', 'greeting'],
    ['谢谢！', 'greeting'],
    ['好的谢谢你', 'greeting'],
    ['嗯嗯明白了，谢谢~', 'greeting'],
    ['human agent please', 'handoff'],
    ['让工作人员跟我说', 'handoff'],
    ['建议政务大厅多设几台自助拍照机', 'case'],
  ])('%s → %s', (q, intent) => {
    expect(detect(q)?.intent).toBe(intent);
  });

  it('leaves questions about how to complain or check progress to the guides', () => {
    expect(detect('投诉民警有哪些渠道')).toBeNull();
    expect(detect('报案以后一般怎么查办理进度')).toBeNull();
    expect(detect('我要投诉派出所民警')?.intent).toBe('case');
  });

  it('does not call a question with a greeting in it a greeting', () => {
    expect(isGreeting(normalizer.clean('你好，身份证丢了怎么办'), lexicon.intents.greetingWords)).toBe(false);
    expect(detect('你好，身份证丢了怎么办')).toBeNull();
  });

  it('leaves ordinary item questions to retrieval', () => {
    expect(detect('身份证丢了怎么补')).toBeNull();
    expect(scope('身份证丢了怎么补', true, 0.9)).toBeNull();
  });
});

describe('out of scope', () => {
  it.each(['社保怎么交', '公积金怎么提取', '结婚登记要带什么', '明天天气怎么样', '双色球开奖号码'])('%s is another department’s', (q) => {
    expect(scope(q)).not.toBeNull();
  });

  it('points to the right place', () => {
    expect(scope('公积金怎么提取')?.where).toContain('公积金');
    expect(scope('结婚证丢了怎么补', false, 0.7, 0.7)?.where).toContain('婚姻登记');
  });

  it('keeps a question with a service term, or a confident match, in scope', () => {
    expect(scope('结婚登记后户口怎么迁', true, 0.4)?.topic).toBe('婚姻登记'); // 结婚登记 decides unless retrieval is sure
    expect(scope('结婚以后户口怎么迁', true, 0.4)).toBeNull();
    expect(scope('在出租车上丢了包怎么找', false, 0.9, 0.77)).toBeNull();
    expect(scope('70岁以上的司机每年都要交体检证明吗', false, 0.95, 0.8)).toBeNull();
    expect(scope('我在这边上班两年了社保一直交着，人才落户怎么办', true, 0.77, 0.2)).toBeNull();
  });

  it('does not let a confident but thin match keep a foreign topic', () => {
    expect(scope('双色球昨天开奖号码是多少', false, 0.85, 0.16)?.topic).toBe('天气与生活');
    expect(scope('社保怎么交', false, 0.7, 0.3)?.topic).toBe('社保与医保');
  });
});
